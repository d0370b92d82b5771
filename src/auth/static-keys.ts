/**
 * The API keys the configuration fixes (`auth.apiKeys.static`), each read from the environment
 * once, at start: a key whose variable is unset (or empty) is inactive. Only SHA-256 digests are
 * kept, and a presented key is compared with every one of them in constant time, so that neither
 * the answer's time nor its content tells which key came close.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { ClientAuthDefinition } from '../config/definition/client-auth';

export interface StaticKey {
  /** The key's name in the configuration: its id in budgets, logs and audit. */
  readonly name: string;
  readonly scopes: readonly string[];
  readonly digest: Buffer;
}

export function keyDigest(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}

/** The active static keys, their variables read from `env` now (and never again). */
export function staticKeys(definitions: ClientAuthDefinition['apiKeys']['static'], env: NodeJS.ProcessEnv): StaticKey[] {
  return Object.entries(definitions).flatMap(([name, definition]) => {
    const key = env[definition.key.env] || definition.key.default;
    return key ? [{ name, scopes: [...definition.scopes], digest: keyDigest(key) }] : [];
  });
}

/** The environment variables of the static keys that are inactive (unset), for start-up messages. */
export function inactiveStaticKeyVariables(definitions: ClientAuthDefinition['apiKeys']['static'], env: NodeJS.ProcessEnv): string[] {
  return Object.values(definitions)
    .filter((definition) => !(env[definition.key.env] || definition.key.default))
    .map((definition) => definition.key.env);
}

/** The static key whose digest is `presented`, compared against all of them (no early exit). */
export function matchStaticKey(keys: readonly StaticKey[], presented: Buffer): StaticKey | undefined {
  let found: StaticKey | undefined;
  for (const key of keys) if (timingSafeEqual(presented, key.digest)) found ??= key;
  return found;
}
