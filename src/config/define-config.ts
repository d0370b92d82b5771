import type { EnvRef, VirtualizationConfigInput } from './definition';

/**
 * Typed identity for `virtualization.config.ts`: the editor checks and completes the declaration,
 * and `loadConfig` validates it again at run time (a config may also arrive as JSON).
 */
export function defineConfig(config: VirtualizationConfigInput): VirtualizationConfigInput {
  return config;
}

/** A value taken from the environment when the gateway starts, with an optional default. */
export function env(name: string, fallback?: string): EnvRef {
  return fallback === undefined ? { env: name } : { env: name, default: fallback };
}
