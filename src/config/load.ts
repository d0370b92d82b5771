import { existsSync, readFileSync } from 'node:fs';
import { dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { createJiti } from 'jiti';
import type { VirtualizationConfig } from './definition';
import { InvalidDefinitionError, validateConfig } from './validate';

/** A configuration file that could not be read or run: names the file and, when known, the line. */
export class ConfigLoadError extends Error {
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    detail: string,
  ) {
    super(`${file}${line ? `:${line}` : ''}: ${detail}`);
    this.name = 'ConfigLoadError';
  }
}

const MODULE_EXTENSIONS = new Set(['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs']);

/**
 * Loads a configuration file and validates it: `.json`, or a TypeScript or JavaScript module whose
 * default export is the config (TypeScript is compiled as it loads, no build needed). A relative
 * `schemaDir` is resolved against the file's directory; left out, it is the `schema` directory
 * beside the file when there is one, else no hand-written canonical types.
 */
export async function loadConfigFile(path: string): Promise<VirtualizationConfig> {
  const file = resolve(path);
  if (!existsSync(file)) throw new ConfigLoadError(file, undefined, 'no such configuration file (--config names a .ts, .js or .json file)');
  const extension = extname(file);
  let raw: unknown;
  if (extension === '.json') raw = readJson(file);
  else if (MODULE_EXTENSIONS.has(extension)) raw = await importModule(file);
  else throw new ConfigLoadError(file, undefined, `a configuration is a .ts, .js or .json file, not ${extension || 'a file without extension'}`);
  try {
    return withSchemaDir(validateConfig(raw), dirname(file));
  } catch (error) {
    if (error instanceof InvalidDefinitionError) throw new InvalidDefinitionError(error.problems, 'configuration', file);
    throw error;
  }
}

function readJson(file: string): unknown {
  const text = readFileSync(file, 'utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const position = /position (\d+)/.exec(message)?.[1];
    const line = position === undefined ? undefined : text.slice(0, Number(position)).split('\n').length;
    throw new ConfigLoadError(file, line, `not valid JSON: ${message}`);
  }
}

async function importModule(file: string): Promise<unknown> {
  // No file cache: what runs is the file as it is on disk, not a compiled copy of an earlier edit.
  const jiti = createJiti(__filename, { fsCache: false });
  try {
    return await jiti.import(file, { default: true });
  } catch (error) {
    if (!(error instanceof Error)) throw new ConfigLoadError(file, undefined, String(error));
    // A syntax error already reads `<message> <file>:<line>:<column>`; a thrown one has it in its stack.
    const at = new RegExp(`${escape(file)}:(\\d+)`).exec(`${error.message}\n${error.stack ?? ''}`);
    const detail = error.message.replace(new RegExp(`\\s*${escape(file)}:\\d+(:\\d+)?`), '').trim();
    throw new ConfigLoadError(file, at ? Number(at[1]) : undefined, detail);
  }
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function withSchemaDir(config: VirtualizationConfig, directory: string): VirtualizationConfig {
  if (config.schemaDir === false) return config;
  if (config.schemaDir !== undefined) return { ...config, schemaDir: isAbsolute(config.schemaDir) ? config.schemaDir : resolve(directory, config.schemaDir) };
  const beside = join(directory, 'schema');
  return { ...config, schemaDir: existsSync(beside) ? beside : false };
}
