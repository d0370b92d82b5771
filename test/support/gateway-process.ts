import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT } from './harness';

const BIN = join(PROJECT_ROOT, 'bin/virtualize.js');

export interface GatewayProcess {
  /** The gateway's origin, e.g. http://127.0.0.1:40123. */
  origin: string;
  child: ChildProcessByStdio<null, Readable, Readable>;
  /** Everything it wrote to stderr (its JSON logs). */
  stderr(): string;
  stop(): Promise<number | null>;
}

/**
 * A configuration module for `virtualize start --config`: the built-in configuration (compiled)
 * with the registry's egress opened to loopback hosts the test names, and top-level sections
 * replaced by `sections` (JSON). Removed with `cleanup`.
 */
export function writeTestConfig(allowPrivate: string[], sections: Record<string, unknown> = {}): { file: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'virtualize-config-'));
  const file = join(dir, 'config.js');
  writeFileSync(
    file,
    `const base = require(${JSON.stringify(join(PROJECT_ROOT, 'dist/virtualization.config.js'))}).default;
module.exports = { ...base, registry: { ...base.registry, egress: { allowedHosts: ['*'], allowPrivate: ${JSON.stringify(allowPrivate)} } }, ...${JSON.stringify(sections)} };
`,
  );
  return { file, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Runs `virtualize start` (the compiled command, as users run it) on a free loopback port. */
export async function startGatewayProcess(args: string[], env: NodeJS.ProcessEnv): Promise<GatewayProcess> {
  const child = spawn(process.execPath, [BIN, 'start', '--port', '0', '--root', PROJECT_ROOT, ...args], {
    cwd: PROJECT_ROOT,
    // The file store unless the test says otherwise: CI's DATABASE_URL is for tests that make their own schema.
    env: { ...process.env, HOST: '127.0.0.1', DATABASE_URL: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const origin = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no start-up line; stdout: ${stdout}; stderr: ${stderr}`)), 20_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the gateway exited with ${code}: ${stderr}`));
    });
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /GraphiQL at (http:\/\/\S+)\/graphql/.exec(stdout);
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
