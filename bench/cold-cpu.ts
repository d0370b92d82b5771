/**
 * The cold path's CPU: the customer 360 through a gateway with its cache tiers off and the sources
 * answering at once, so that what is measured is the gateway's own work per answer.
 *
 *   node dist/bench/cold-cpu.js [virtualize|naive] [--requests N] [--warmups N] [--profile DIR]
 *
 * Sandboxes and the gateway each run in a child process (as in `npm run bench`); this process sends
 * the operation sequentially and reads the gateway's CPU time from /proc/<pid>/stat before and after.
 * `--profile DIR` runs the gateway under `node --cpu-prof` and writes its profile into DIR, then
 * prints the profile's heaviest functions and packages by self time (see profile-summary.ts).
 * Loopback only; every child is stopped by its pid.
 */
import { mkdirSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { startChild, terminateAllNow, type Child } from './children';
import { CUSTOMER_360 } from './customer360';
import { GraphQLClient } from './graphql-client';
import { distribution, SandboxControl } from './measure';
import { summarizeProfile } from './profile-summary';
import { parseSandboxUrls, PROJECT_ROOT } from './project';
import { processCpuMs } from './tracing-overhead';

const CLI = join(PROJECT_ROOT, 'bin', 'virtualize.js');
const SERVE_GATEWAY = join(__dirname, 'serve-gateway.js');
const BUDGET_MS = 300_000;

function parseGatewayAnnouncement(value: unknown): { name: string; url: string } {
  const record = value as { name?: unknown; url?: unknown } | null;
  if (typeof record?.name !== 'string' || typeof record.url !== 'string' || !record.url.startsWith('http://127.0.0.1:')) {
    throw new Error(`expected {"name": ..., "url": "http://127.0.0.1:<port>/graphql"}, got ${JSON.stringify(value)}`);
  }
  return { name: record.name, url: record.url };
}

function positiveInt(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} takes a positive integer, got ${JSON.stringify(value)}`);
  return n;
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { requests: { type: 'string' }, warmups: { type: 'string' }, profile: { type: 'string' } },
  });
  const kind = positionals[0] ?? 'virtualize';
  if (kind !== 'virtualize' && kind !== 'naive') throw new Error(`usage: cold-cpu.js [virtualize|naive] [--requests N] [--warmups N] [--profile DIR]; got ${JSON.stringify(kind)}`);
  const requests = positiveInt('requests', values.requests, 300);
  const warmups = positiveInt('warmups', values.warmups, 100);
  const profileDir = values.profile === undefined ? undefined : resolve(values.profile);
  if (profileDir) mkdirSync(profileDir, { recursive: true });

  const watchdog = setTimeout(() => {
    console.error(`cold-cpu: still running after ${BUDGET_MS / 1000} s; stopping the child processes`);
    terminateAllNow();
    process.exit(1);
  }, BUDGET_MS);
  watchdog.unref();

  const children: Child<unknown>[] = [];
  let client: GraphQLClient | undefined;
  let control: SandboxControl | undefined;
  try {
    const sandbox = await startChild('sandboxes', [CLI, 'sandbox', '--sandbox-ports', '0,0,0', '--latency', '0'], parseSandboxUrls);
    children.push(sandbox);
    control = new SandboxControl(sandbox.announced);
    await control.setLatency(0);
    const s = sandbox.announced;
    const nodeFlags = profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [];
    const gateway = await startChild(
      kind,
      [...nodeFlags, SERVE_GATEWAY, kind, '--crm', s.crm, '--orders', s.orders, '--support', s.support],
      parseGatewayAnnouncement,
      { ...process.env, OTEL_SDK_DISABLED: 'true' },
    );
    children.push(gateway);
    client = new GraphQLClient(gateway.announced.url);
    const operation = { query: CUSTOMER_360.query, variables: { ...CUSTOMER_360.variables } };

    // Each request under a key of its own, so that the per-client query budget never throttles the loop.
    let sent = 0;
    const send = () => client!.query(operation.query, operation.variables, { 'x-api-key': `cold-cpu-${(sent += 1)}` });
    for (let i = 0; i < warmups; i += 1) await send();
    const samples: number[] = [];
    const cpuBefore = processCpuMs(gateway.pid);
    const started = performance.now();
    for (let i = 0; i < requests; i += 1) {
      const at = performance.now();
      await send();
      samples.push(performance.now() - at);
    }
    const wallMs = performance.now() - started;
    const cpuAfter = processCpuMs(gateway.pid);
    const cpuMsPerAnswer = cpuBefore === null || cpuAfter === null ? null : Math.round(((cpuAfter - cpuBefore) / requests) * 100) / 100;
    console.log(
      JSON.stringify({ gateway: kind, requests, warmups, cpuMsPerAnswer, latencyMs: distribution(samples), answersPerSecond: Math.round((requests / wallMs) * 1000 * 10) / 10 }),
    );

    if (profileDir) {
      // The profile is written when the gateway exits; only its measured stretch (and the stop) is summarized.
      await gateway.stop();
      const windowMs = performance.now() - started;
      const profiles = readdirSync(profileDir).filter((file) => file.endsWith('.cpuprofile')).sort();
      const latest = profiles[profiles.length - 1];
      if (latest) console.log(`profile: ${join(profileDir, latest)}\n${summarizeProfile(join(profileDir, latest), { lastMs: windowMs })}`);
    }
  } finally {
    await client?.close().catch(() => undefined);
    await control?.close().catch(() => undefined);
    await Promise.allSettled(children.slice(1).map((child) => child.stop()));
    await children[0]?.stop();
    clearTimeout(watchdog);
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exitCode = 1;
});
