/**
 * What the deployment files are checked against: the environment variables the gateway reads (from
 * src/ and the configurations it ships), the endpoints and port it serves, and its drain.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { PROJECT_ROOT } from '../support/harness';

export const read = (path: string): string => readFileSync(join(PROJECT_ROOT, path), 'utf8');
export const readYaml = <T = any>(path: string): T => parse(read(path)) as T;
/** Every document of a multi-document YAML file. */
export const readYamlDocuments = (path: string): any[] => read(path).split(/^---$/m).map((text) => parse(text)).filter(Boolean);

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return tsFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/**
 * The names of the variables the gateway reads: `process.env.X` and `env.X` in src/ (OpenTelemetry,
 * logs, NODE_ENV), and `process.env.X` and `env('X')` in the built-in configuration and the
 * replicas' configuration (sources, credentials, stores, HOST and PORT).
 */
export function variablesTheGatewayReads(): Set<string> {
  const names = new Set<string>();
  const texts = [...tsFiles(join(PROJECT_ROOT, 'src')).map((path) => readFileSync(path, 'utf8')), read('virtualization.config.ts'), read('deploy/virtualization.config.js')];
  for (const text of texts) {
    for (const match of text.matchAll(/\b(?:process\.env|env)\.([A-Z][A-Z0-9_]+)\b/g)) names.add(match[1]!);
    for (const match of text.matchAll(/\benv\(\s*'([A-Z][A-Z0-9_]+)'/g)) names.add(match[1]!);
  }
  return names;
}

/** `NAME=value` lines of an env file (comments and blank lines skipped). */
export function envFile(path: string): Record<string, string> {
  const entries = read(path)
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const at = line.indexOf('=');
      return [line.slice(0, at), line.slice(at + 1)] as const;
    });
  return Object.fromEntries(entries);
}

/** The gateway's port when PORT is unset (virtualization.config.ts, server.port). */
export const DEFAULT_PORT = Number(/port: Number\(process\.env\.PORT \?\? (\d+)\)/.exec(read('virtualization.config.ts'))![1]);

/** The time `close()` gives requests in flight before it closes their sockets (src/server/gateway-server.ts). */
export const DRAIN_MS = Number(/options\.shutdownGraceMs \?\? ([\d_]+)\)/.exec(read('src/server/gateway-server.ts'))![1]!.replace(/_/g, ''));
