import type { EnvRef } from '../config/definition';

/** Resolves a literal or an environment reference; a missing variable with no default is a clear start-up error. */
export function resolveEnv(value: string | EnvRef, env: NodeJS.ProcessEnv): string {
  if (typeof value === 'string') return value;
  const found = env[value.env] ?? value.default;
  if (found === undefined || found === '') {
    throw new Error(`Environment variable ${value.env} is not set and has no default: set it before starting the gateway`);
  }
  return found;
}
