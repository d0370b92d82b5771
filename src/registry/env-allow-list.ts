import type { VirtualizationConfig } from '../config/definition';
import type { DefinitionProblem } from '../config/validate';
import type { EnvReference } from './registration-rules';

/**
 * Which environment variables a registered definition may name: those `registry.env.allowed`
 * lists (a name, or a prefix ending in `*`), never one that holds the gateway's own credentials.
 * Without the list, whoever may register could name any variable of the gateway's environment as
 * a header value and send it to a host of their choosing, or as a base URL and read it back.
 */
export function envAllowed(variable: string, base: VirtualizationConfig): boolean {
  if (ownVariables(base).has(variable)) return false;
  return base.registry.env.allowed.some((pattern) => (pattern.endsWith('*') ? variable.startsWith(pattern.slice(0, -1)) : variable === pattern));
}

/** The variables of the configuration's own secrets: admin tokens, the registry store's URL. */
function ownVariables(base: VirtualizationConfig): Set<string> {
  const own = new Set(Object.values(base.registry.credentials).map((credential) => credential.token.env));
  const store = base.registry.store;
  if (store.kind === 'postgres' && typeof store.url !== 'string') own.add(store.url.env);
  return own;
}

/** A problem for each reference to a variable the configuration does not allow, at its path. */
export function envAllowListProblems(references: readonly EnvReference[], base: VirtualizationConfig): DefinitionProblem[] {
  const allowed = base.registry.env.allowed;
  return references
    .filter((reference) => !envAllowed(reference.ref.env, base))
    .map((reference) => ({
      path: `${reference.path}.env`,
      message: ownVariables(base).has(reference.ref.env)
        ? `${reference.ref.env} holds a credential of the gateway itself, which no registered definition may name`
        : `${reference.ref.env} is not in registry.env.allowed (${allowed.join(', ') || 'empty'}): an operator must allow it in the gateway's configuration, e.g. env: { allowed: ['${reference.ref.env.split('_')[0]}_*'] }`,
      found: reference.ref.env,
    }));
}
