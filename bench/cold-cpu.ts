/**
 * The cold path's CPU: the customer 360 through a gateway with its cache tiers off and the sources
 * answering at once (or after `--latency` ms), so that what is measured is the gateway's own work.
 *
 *   node dist/bench/cold-cpu.js [virtualize|naive] [--requests N] [--warmups N] [--latency MS]
 *        [--against DIR] [--profile DIR]
 *
 * Sandboxes and the gateway each run in a child process (as in `npm run bench`); this process sends
 * the operation sequentially and reads the gateway's CPU time from /proc/<pid>/stat before and after.
 * `--against DIR` starts a second gateway from another built checkout of virtualize (its
 * `dist/bench/serve-gateway.js`) on the same sandboxes and alternates requests between the two, so
 * that both see the same machine at the same time: on a shared machine this is the comparison to
 * trust. Both gateways run with NODE_ENV=production unless the environment sets it.
 * `--profile DIR` runs each gateway under `node --cpu-prof`, writes its profile below DIR, and prints
 * the profile's heaviest functions and packages by self time (see profile-summary.ts).
 * Loopback only; every child is stopped by its pid.
 */
import { mkdirSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { runMain, startChild, stopGatewaysThenSandboxes, terminateAllNow, type Child } from './children';
import { CUSTOMER_360 } from './customer360';
import { GraphQLClient } from './graphql-client';
import { distribution, SandboxControl } from './measure';
import { summarizeProfile } from './profile-summary';
import { benchClientKey, parseSandboxUrls, PROJECT_ROOT } from './project';
import { processCpuMs } from './tracing-overhead';

const CLI = join(PROJECT_ROOT, 'bin', 'virtualize.js');
const SERVE_GATEWAY = join(__dirname, 'serve-gateway.js');
const BUDGET_MS = 600_000;
const USAGE = 'usage: cold-cpu.js [virtualize|naive] [--requests N] [--warmups N] [--latency MS] [--against DIR] [--profile DIR]';

function parseGatewayAnnouncement(value: unknown): { name: string; url: string } {
  const record = value as { name?: unknown; url?: unknown } | null;
  if (typeof record?.name !== 'string' || typeof record.url !== 'string' || !record.url.startsWith('http://127.0.0.1:')) {
    throw new Error(`expected {"name": ..., "url": "http://127.0.0.1:<port>/graphql"}, got ${JSON.stringify(value)}`);
  }
  return { name: record.name, url: record.url };
}

function nonNegativeInt(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} takes a whole number, got ${JSON.stringify(value)}`);
  return n;
}

interface Measured {
  label: string;
  gateway: Child<{ name: string; url: string }>;
  client: GraphQLClient;
  profileDir: string | undefined;
  samples: number[];
  cpuBefore: number | null;
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      requests: { type: 'string' },
      warmups: { type: 'string' },
      latency: { type: 'string' },
      against: { type: 'string' },
      profile: { type: 'string' },
    },
  });
  const kind = positionals[0] ?? 'virtualize';
  if (kind !== 'virtualize' && kind !== 'naive') throw new Error(`${USAGE}; got ${JSON.stringify(kind)}`);
  const requests = Math.max(1, nonNegativeInt('requests', values.requests, 300));
  const warmups = nonNegativeInt('warmups', values.warmups, 100);
  const latencyMs = nonNegativeInt('latency', values.latency, 0);
  const profileRoot = values.profile === undefined ? undefined : resolve(values.profile);
  const targets = [
    { label: PROJECT_ROOT, serve: SERVE_GATEWAY },
    ...(values.against === undefined ? [] : [{ label: resolve(values.against), serve: join(resolve(values.against), 'dist', 'bench', 'serve-gateway.js') }]),
  ];

  const watchdog = setTimeout(() => {
    console.error(`cold-cpu: still running after ${BUDGET_MS / 1000} s; stopping the child processes`);
    terminateAllNow();
    process.exit(1);
  }, BUDGET_MS);
  watchdog.unref();

  const children: Child<unknown>[] = [];
  const measured: Measured[] = [];
  let control: SandboxControl | undefined;
  try {
    const sandbox = await startChild('sandboxes', [CLI, 'sandbox', '--sandbox-ports', '0,0,0', '--latency', String(latencyMs)], parseSandboxUrls);
    children.push(sandbox);
    control = new SandboxControl(sandbox.announced);
    await control.setLatency(latencyMs);
    const s = sandbox.announced;
    // The same mode for a checkout whose serve-gateway does not set it itself.
    const env = { ...process.env, NODE_ENV: process.env.NODE_ENV ?? 'production', OTEL_SDK_DISABLED: 'true' };
    for (const [index, target] of targets.entries()) {
      const profileDir = profileRoot === undefined ? undefined : join(profileRoot, String(index));
      if (profileDir) mkdirSync(profileDir, { recursive: true });
      const nodeFlags = profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [];
      const gateway = await startChild(target.label, [...nodeFlags, target.serve, kind, '--crm', s.crm, '--orders', s.orders, '--support', s.support], parseGatewayAnnouncement, env);
      children.push(gateway);
      measured.push({ label: target.label, gateway, client: new GraphQLClient(gateway.announced.url), profileDir, samples: [], cpuBefore: null });
    }
    const operation = { query: CUSTOMER_360.query, variables: { ...CUSTOMER_360.variables } };

    // The requests take turns over the benchmark's keys, so that the per-client query budget never throttles the loop.
    let sent = 0;
    const send = (m: Measured) => m.client.query(operation.query, operation.variables, { 'x-api-key': benchClientKey((sent += 1)) });
    for (let i = 0; i < warmups; i += 1) for (const m of measured) await send(m);
    for (const m of measured) m.cpuBefore = processCpuMs(m.gateway.pid);
    const started = performance.now();
    for (let i = 0; i < requests; i += 1) {
      // Alternating who goes first, so that neither always follows the other.
      for (const m of i % 2 === 0 ? measured : [...measured].reverse()) {
        const at = performance.now();
        await send(m);
        m.samples.push(performance.now() - at);
      }
    }
    const results = measured.map((m) => {
      const cpuAfter = processCpuMs(m.gateway.pid);
      const cpuMsPerAnswer = m.cpuBefore === null || cpuAfter === null ? null : Math.round(((cpuAfter - m.cpuBefore) / requests) * 100) / 100;
      return { gateway: kind, checkout: m.label, requests, warmups, sourceLatencyMs: latencyMs, cpuMsPerAnswer, latencyMs: distribution(m.samples) };
    });
    for (const result of results) console.log(JSON.stringify(result));
    const [mine, theirs] = results;
    if (mine && theirs && mine.cpuMsPerAnswer !== null && theirs.cpuMsPerAnswer !== null) {
      const ratio = (a: number, b: number) => Math.round((a / b) * 1000) / 1000;
      console.log(JSON.stringify({ thisOverAgainst: { cpuMsPerAnswer: ratio(mine.cpuMsPerAnswer, theirs.cpuMsPerAnswer), p50: ratio(mine.latencyMs.p50, theirs.latencyMs.p50) } }));
    }

    if (profileRoot) {
      // Profiles are written when the gateways exit; only the measured stretch (and the stop) is summarized.
      for (const m of measured) await m.gateway.stop();
      const windowMs = performance.now() - started;
      for (const m of measured) {
        const profiles = readdirSync(m.profileDir!).filter((file) => file.endsWith('.cpuprofile')).sort();
        const latest = profiles[profiles.length - 1];
        if (latest) console.log(`\n${m.label}: ${join(m.profileDir!, latest)}\n${summarizeProfile(join(m.profileDir!, latest), { lastMs: windowMs })}`);
      }
    }
  } finally {
    await Promise.allSettled(measured.map((m) => m.client.close()));
    await control?.close().catch(() => undefined);
    await stopGatewaysThenSandboxes(children);
    clearTimeout(watchdog);
  }
}

runMain(main);
