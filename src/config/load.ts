import { readFileSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import type { VirtualizationConfig } from './definition';
import { validateConfig } from './validate';

/**
 * Loads a configuration from a module (`.js`, or `.ts` where a TypeScript loader is active) whose
 * default export is the config, or from a `.json` file, and validates it.
 */
export function loadConfigFile(path: string): VirtualizationConfig {
  const absolute = resolve(path);
  let raw: unknown;
  if (extname(absolute) === '.json') {
    raw = JSON.parse(readFileSync(absolute, 'utf8')) as unknown;
  } else {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- configs are CommonJS modules loaded at run time
    const loaded = require(absolute) as { default?: unknown };
    raw = loaded.default ?? loaded;
  }
  return validateConfig(raw);
}
