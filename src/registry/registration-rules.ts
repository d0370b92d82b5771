import type { AuthDefinition, DefinitionDocument, EnvRef, SourceDefinition, VirtualizationConfig } from '../config/definition';
import { resolveEnv } from '../config/env';
import type { DefinitionProblem } from '../config/validate';
import type { Problem } from './dry-run';
import { egressProblem, type HostResolver } from './egress-policy';
import { envAllowListProblems } from './env-allow-list';

/**
 * The rules of a run-time registration, in one place for the dry run (`validateDefinition`), a
 * change (`registerSource`, `updateSource`, `registerMapping`) and a reload alike: what a
 * registered definition may not say (`registrationProblems`), and whether the sources it declares
 * can be called from here (`reachability`: every environment variable set, every URL inside the
 * egress policy). Both walk a source through `envReferences` and `namedUrls`, which know every
 * place of the definition format that takes an environment reference or names a URL.
 */

/** An environment reference in a source definition, at its path in the document. */
export interface EnvReference {
  path: string;
  ref: EnvRef;
  /**
   * A secret: the format takes it by environment reference only (an API key, a token, a client
   * secret), so a default would be the secret itself, stored in the registry in clear. The others
   * are settings (a base URL, a token URL, an OAuth client id, which RFC 6749 says is no secret).
   */
  secret: boolean;
}

/** A URL the gateway will call for a source, at its path in the document. */
export interface NamedUrl {
  path: string;
  value: string | EnvRef;
  /** A path such as `/oauth/token` is resolved against the source's base URL, as the connector resolves it. */
  relativeToBaseUrl: boolean;
}

/** Keys of `T` whose value is an environment reference and nothing else. */
type EnvOnlyKeys<T> = { [K in keyof T]-?: [T[K]] extends [EnvRef] ? K : never }[keyof T];

/**
 * The secrets of each kind of auth: every field the format takes by environment reference only.
 * Typed so that a new kind of auth, or a new secret field of one, does not compile until it is
 * listed here.
 */
const SECRET_FIELDS: { [Type in AuthDefinition['type']]: { [Field in EnvOnlyKeys<Extract<AuthDefinition, { type: Type }>>]: true } } = {
  none: {},
  header: { value: true },
  bearer: { token: true },
  oauth2ClientCredentials: { clientSecret: true },
};

function isEnvRef(value: unknown): value is EnvRef {
  return value !== null && typeof value === 'object' && typeof (value as { env?: unknown }).env === 'string';
}

/** Every environment reference of a source: its base URL's, and every one its auth takes, secrets marked. */
export function envReferences(source: SourceDefinition, at: string): EnvReference[] {
  const found: EnvReference[] = [];
  if (isEnvRef(source.baseUrl)) found.push({ path: `${at}.baseUrl`, ref: source.baseUrl, secret: false });
  const secrets: Record<string, true | undefined> = SECRET_FIELDS[source.auth.type];
  for (const [field, value] of Object.entries(source.auth)) {
    if (isEnvRef(value)) found.push({ path: `${at}.auth.${field}`, ref: value, secret: secrets[field] === true });
  }
  return found;
}

/** The names of the environment variables holding a source's secrets, for messages that say what to check. */
export function secretVariables(source: SourceDefinition): string[] {
  return envReferences(source, '').flatMap((reference) => (reference.secret ? [reference.ref.env] : []));
}

/** Every URL a source definition names: its base URL, and the token endpoint of OAuth client credentials. */
export function namedUrls(source: SourceDefinition, at: string): NamedUrl[] {
  const urls: NamedUrl[] = [{ path: `${at}.baseUrl`, value: source.baseUrl, relativeToBaseUrl: false }];
  if (source.auth.type === 'oauth2ClientCredentials') urls.push({ path: `${at}.auth.tokenUrl`, value: source.auth.tokenUrl, relativeToBaseUrl: true });
  return urls;
}

/** Query, body or URL parameter names that carry secrets; a literal value under one would store the secret in the registry. */
const SECRET_NAME = /(api[_-]?key|apikey|token|secret|password|passwd|signature|^sig$|^key$|auth)/i;

function clearCredential(path: string, name: string): DefinitionProblem {
  return {
    path,
    message: `"${name}" looks like a credential written in clear; the registry never stores secrets: declare auth with an environment reference (auth: { type: "header", header, value: { env } })`,
    found: 'a literal value',
    expected: 'auth with an environment reference',
  };
}

function literalSecrets(value: unknown, path: string, found: DefinitionProblem[]): void {
  if (value === null || typeof value !== 'object') return;
  for (const [name, item] of Object.entries(value)) {
    const at = `${path}.${name}`;
    if (typeof item === 'string' && SECRET_NAME.test(name) && !/^\{\w+\}$/.test(item)) found.push(clearCredential(at, name));
    else literalSecrets(item, at, found);
  }
}

/** Query parameters of a URL written in the definition that are named like credentials. */
function literalUrlSecrets(url: NamedUrl, found: DefinitionProblem[]): void {
  if (typeof url.value !== 'string') return;
  let parsed: URL;
  try {
    parsed = new URL(url.value, 'http://relative.invalid');
  } catch {
    return; // Not a URL at all: the egress check says so.
  }
  for (const name of new Set(parsed.searchParams.keys())) if (SECRET_NAME.test(name)) found.push(clearCredential(url.path, name));
}

/**
 * What a run-time registration may not do, beyond what the format checks: change what the
 * configuration file declares, store a secret in clear (a secret's environment reference with a
 * default, or a credential written into a query, a body or a URL), or read files on the gateway's
 * host. Needs neither the environment nor the network.
 */
export function registrationProblems(document: DefinitionDocument, base: VirtualizationConfig): DefinitionProblem[] {
  const problems: DefinitionProblem[] = [];
  for (const [name, source] of Object.entries(document.sources)) {
    const at = `sources.${name}`;
    if (name in base.sources) problems.push({ path: at, message: `source "${name}" is declared in virtualization.config.ts and cannot be changed at run time; register it under another name` });
    problems.push(...envAllowListProblems(envReferences(source, at), base));
    for (const reference of envReferences(source, at)) {
      if (reference.secret && reference.ref.default !== undefined) {
        problems.push({ path: `${reference.path}.default`, message: `a default would store the secret in the registry in clear: remove it and set ${reference.ref.env} in the gateway's environment` });
      }
    }
    for (const url of namedUrls(source, at)) literalUrlSecrets(url, problems);
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

export interface ReachabilityOptions {
  /** The configuration file: its own sources are trusted as written, and its egress policy applies. */
  base: VirtualizationConfig;
  env: NodeJS.ProcessEnv;
  /** DNS for the egress check (tests replace it). */
  resolveHost?: HostResolver;
}

export interface Reachability {
  /** Registered sources that may be called from here: every variable they name is set, every URL allowed. */
  reachable: Set<string>;
  /** Why the others may not, at the path of each reference or URL (stage `environment` or `egress`). */
  problems: Problem[];
}

const withheld = (variable: string, what: string): string =>
  `the value of ${variable} is not a ${what} this gateway may call (an absolute http or https URL, its host in registry.egress.allowedHosts, resolving to public addresses unless registry.egress.allowPrivate lists it); the value is not shown: check it in the gateway's environment`;

const unset = (path: string, variable: string): Problem => ({
  stage: 'environment',
  path,
  message: `the environment variable ${variable} is not set in the gateway's environment: set it on every replica, then register again`,
});

/**
 * Whether each registered source of `document` can be called from this gateway: every environment
 * reference it makes resolves here, and every URL it names (its base URL, its token endpoint)
 * passes the egress policy. A source the configuration file declares is left to the rules.
 */
export async function reachability(document: DefinitionDocument, options: ReachabilityOptions): Promise<Reachability> {
  const reachable = new Set<string>();
  const problems: Problem[] = [];
  for (const [name, source] of Object.entries(document.sources)) {
    if (name in options.base.sources) continue;
    const at = `sources.${name}`;
    const before = problems.length;
    for (const reference of envReferences(source, at)) {
      try {
        resolveEnv(reference.ref, options.env);
      } catch {
        problems.push(unset(reference.path, reference.ref.env));
      }
    }
    let baseUrl: string | undefined;
    for (const url of namedUrls(source, at)) {
      let resolved: string;
      try {
        resolved = resolveEnv(url.value, options.env);
      } catch {
        continue; // Reported above as an unset variable.
      }
      if (url.relativeToBaseUrl && !URL.canParse(resolved)) {
        // A path on the source's own origin; without an allowed base URL there is nothing to resolve it against.
        if (baseUrl === undefined || !URL.canParse(resolved, baseUrl)) continue;
        resolved = new URL(resolved, baseUrl).href;
      }
      const what = url.relativeToBaseUrl ? 'token URL' : 'base URL';
      const refused = await egressProblem(resolved, options.base.registry.egress, options.resolveHost, what);
      // The policy's reason quotes the URL (its host, its scheme); for a value read from the
      // environment that would tell the registrant what the variable holds, so only its name is said.
      if (refused) problems.push({ stage: 'egress', path: url.path, message: typeof url.value === 'string' ? refused : withheld(url.value.env, what) });
      else if (!url.relativeToBaseUrl) baseUrl = resolved;
    }
    if (problems.length === before) reachable.add(name);
  }
  return { reachable, problems };
}
