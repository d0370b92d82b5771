import type { DefinitionDocument, VirtualizationConfig } from '../config/definition';
import type { DefinitionProblem } from '../config/validate';

/** Query or body names that carry secrets; a literal value under one would store the secret in the registry. */
const SECRET_NAME = /(api[_-]?key|apikey|token|secret|password|passwd|signature|^sig$|^key$|auth)/i;

function literalSecrets(value: unknown, path: string, found: DefinitionProblem[]): void {
  if (value === null || typeof value !== 'object') return;
  for (const [name, item] of Object.entries(value)) {
    const at = `${path}.${name}`;
    if (typeof item === 'string' && SECRET_NAME.test(name) && !/^\{\w+\}$/.test(item)) {
      found.push({
        path: at,
        message: `"${name}" looks like a credential written in clear; the registry never stores secrets: declare auth with an environment reference (auth: { type: "header", header, value: { env } })`,
        found: 'a literal value',
        expected: 'auth with an environment reference',
      });
    } else literalSecrets(item, at, found);
  }
}

/**
 * What a run-time registration may not do, beyond what the format checks: change what the
 * configuration file declares, store a secret in clear (an environment reference with a default
 * is a secret in clear too), or read files on the gateway's host.
 */
export function registrationProblems(document: DefinitionDocument, base: VirtualizationConfig): DefinitionProblem[] {
  const problems: DefinitionProblem[] = [];
  for (const [name, source] of Object.entries(document.sources)) {
    const at = `sources.${name}`;
    if (name in base.sources) problems.push({ path: at, message: `source "${name}" is declared in virtualization.config.ts and cannot be changed at run time; register it under another name` });
    const auth = source.auth;
    const secret = auth.type === 'header' ? { ref: auth.value, path: `${at}.auth.value` } : auth.type === 'bearer' ? { ref: auth.token, path: `${at}.auth.token` } : undefined;
    if (secret?.ref.default !== undefined) {
      problems.push({ path: `${secret.path}.default`, message: `a default would store the secret in the registry in clear: remove it and set ${secret.ref.env} in the gateway's environment` });
    }
    for (const [entityName, entity] of Object.entries(source.entities)) {
      const endpoints = [...Object.entries(entity.lookups).map(([field, lookup]) => [`lookups.${field}`, lookup] as const), ...(entity.list ? [['list', entity.list] as const] : [])];
      for (const [where, endpoint] of endpoints) {
        literalSecrets(endpoint.query, `${at}.entities.${entityName}.${where}.query`, problems);
        literalSecrets(endpoint.body, `${at}.entities.${entityName}.${where}.body`, problems);
      }
    }
  }
  for (const [name, mapping] of Object.entries(document.mappings)) {
    const at = `mappings.${name}`;
    if (name in base.mappings) problems.push({ path: at, message: `mapping "${name}" is declared in virtualization.config.ts and cannot be changed at run time; register it under another name` });
    if (mapping.via.kind === 'crosswalk' && mapping.via.file !== undefined) {
      problems.push({
        path: `${at}.via.file`,
        message: 'a registered crosswalk cannot name a file on the gateway host: leave file out and import the pairs (virtualize mappings import <file> --mapping ' + name + ')',
        found: `the file ${JSON.stringify(mapping.via.file)}`,
      });
    }
  }
  return problems;
}
