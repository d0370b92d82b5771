import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEMO_KEY_ENV } from '../../virtualization.config';
import { PROJECT_ROOT } from './harness';

const BIN = join(PROJECT_ROOT, 'bin/virtualize.js');

export interface GatewayProcess {
  /** The gateway's origin, e.g. http://127.0.0.1:40123. */
  origin: string;
  child: ChildProcessByStdio<null, Readable, Readable>;
  /** Everything it wrote to stderr (its audit log). */
  stderr(): string;
  /** Everything it wrote to stdout (the start-up lines, the application log). */
  stdout(): string;
  /**
   * Resolves with the first JSON log line (stdout or stderr, past or future) for which `match`
   * holds; rejects after `withinMs` without one.
   */
  logged(match: (entry: Record<string, unknown>) => boolean, withinMs?: number): Promise<Record<string, unknown>>;
  stop(): Promise<number | null>;
}

/**
 * A configuration module for `virtualize start --config`: the built-in configuration (compiled)
 * with the project's canonical schema (a config file's schemaDir is relative to the file), the registry's egress opened to loopback hosts the test names, and top-level sections
 * replaced by `sections` (JSON). Removed with `cleanup`.
 */
export function writeTestConfig(allowPrivate: string[], sections: Record<string, unknown> = {}): { file: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'virtualize-config-'));
  const file = join(dir, 'config.js');
  writeFileSync(
    file,
    `const base = require(${JSON.stringify(join(PROJECT_ROOT, 'dist/virtualization.config.js'))}).default;
module.exports = { ...base, schemaDir: ${JSON.stringify(join(PROJECT_ROOT, 'schema'))}, registry: { ...base.registry, egress: { allowedHosts: ['*'], allowPrivate: ${JSON.stringify(allowPrivate)} } }, ...${JSON.stringify(sections)} };
`,
  );
  return { file, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Secrets for the built-in configuration's webhooks, other than the sandbox defaults it publishes. */
export const TEST_WEBHOOK_SECRETS = {
  CRM_WEBHOOK_SECRET: 'test-process-crm-webhook-secret',
  ORDERS_WEBHOOK_SECRET: 'test-process-orders-webhook-secret',
  SUPPORT_WEBHOOK_SECRET: 'test-process-support-webhook-secret',
} as const;

/**
 * Runs `virtualize start` (the compiled command, as users run it) on a free loopback port, with the
 * demo keys set (as sandbox mode sets them) unless `env` says otherwise.
 */
export async function startGatewayProcess(args: string[], env: NodeJS.ProcessEnv): Promise<GatewayProcess> {
  const child = spawn(process.execPath, [BIN, 'start', '--port', '0', '--root', PROJECT_ROOT, ...args], {
    cwd: PROJECT_ROOT,
    // The file store unless the test says otherwise: CI's DATABASE_URL is for tests that make their own schema.
    // Webhook secrets of its own: outside sandbox mode the built-in configuration's published defaults refuse to start.
    // The demo keys as sandbox mode sets them, unless `env` says otherwise.
    env: { ...process.env, HOST: '127.0.0.1', DATABASE_URL: '', ...TEST_WEBHOOK_SECRETS, ...DEMO_KEY_ENV, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const entries: Array<Record<string, unknown>> = [];
  const waiting = new Set<(entry: Record<string, unknown>) => void>();
  // Each stream's JSON lines, parsed as they complete; other lines (the start-up line) are skipped.
  const readLines = () => {
    let partial = '';
    return (chunk: Buffer) => {
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop()!;
      for (const line of lines) {
        if (!line.startsWith('{')) continue;
        const entry = JSON.parse(line) as Record<string, unknown>;
        entries.push(entry);
        for (const wake of [...waiting]) wake(entry);
      }
    };
  };
  child.stdout.on('data', readLines());
  child.stderr.on('data', readLines());
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const origin = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no start-up line; stdout: ${stdout}; stderr: ${stderr}`)), 20_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the gateway exited with ${code}: ${stderr}`));
    });
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /(?:GraphiQL|GraphQL) at (http:\/\/\S+)\/graphql/.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
  });
  return {
    origin,
    child,
    stderr: () => stderr,
    stdout: () => stdout,
    logged: (match, withinMs = 10_000) => {
      const seen = entries.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const deadline = setTimeout(() => {
          waiting.delete(wake);
          reject(new Error(`no such log line within ${withinMs} ms; stdout: ${stdout.slice(-2_000)}`));
        }, withinMs);
        const wake = (entry: Record<string, unknown>) => {
          if (!match(entry)) return;
          clearTimeout(deadline);
          waiting.delete(wake);
          resolve(entry);
        };
        waiting.add(wake);
      });
    },
    stop: async () => {
      if (child.exitCode !== null) return child.exitCode;
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}
