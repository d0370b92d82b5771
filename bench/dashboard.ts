/**
 * The dashboard phase: many dashboards polling customer 360s, a few customers far more often than
 * the rest (Zipf), 80% of requests repeating a customer already asked. The same request sequence
 * goes to virtualize with its cache tiers off (cold) and on (hot, starting empty, then again with
 * its caches filled), each gateway in a child process of its own, at fixed concurrency, from a load
 * generator in a third process (bench/load-generator.ts), so that generating load takes no CPU
 * from the gateway's process: throughput, p50/p95, hit ratio, upstream calls per answer, CPU of the
 * gateway and of the load generator, and the gateway process's resident memory after the run.
 *
 * Every answer is checked (200, no GraphQL errors, the customer asked for); one that fails counts
 * as a failure, never as an answer, and so does an operation the gateway itself counts as failed.
 */
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { sandboxDataset } from '../sources/sandbox';
import type { LoadGenerator } from './load';
import type { LoadResult } from './load-protocol';
import type { Distribution, SandboxControl } from './measure';
import { processCpuMs } from './tracing-overhead';
import { BENCH_CLIENT_KEY_COUNT } from './project';

export const DASHBOARD_QUERY = `query Dashboard360($id: ID!) {
  customer(id: $id) {
    id name email segment
    orderSummary { count totalSpent currency lastOrderAt }
    orders(first: 3) { number total currency status placedAt }
    openTicketCount
    tickets { subject status priority openedAt }
  }
}`;

export interface DashboardOptions {
  /** Length of the sequence: cold and the first pass go through it once. */
  requests: number;
  /** The second pass goes through the same sequence this many times, for a hot figure over seconds rather than one. */
  filledPasses: number;
  clients: number;
  /** Customers that dashboards ask about. */
  customers: number;
  repeatRate: number;
  zipfExponent: number;
  seed: number;
}

export interface DashboardRun {
  name: string;
  /** Requests sent: the sequence times the passes. */
  requests: number;
  passes: number;
  /** Answers that passed every check; latency, throughput and calls per answer count these only. */
  answers: number;
  failures: LoadResult['failures'];
  /** Operations the gateway counted with outcome other than ok (virtualize_operations_total) during the run. */
  gatewayFailedOperations: number;
  /** Null when no answer passed. */
  latencyMs: Distribution | null;
  throughputPerSecond: number;
  wallMs: number;
  /**
   * CPU time over wall time during the run (1 = one CPU busy throughout): the gateway process, the
   * load generator, and the whole machine (every process, this benchmark's and anyone else's: when
   * it exceeds the others by much, something else was running).
   */
  cpuShare: { gateway: number | null; loadGenerator: number; machine: number | null };
  /** CPU time of the gateway process (all its threads) per answer, in ms: what an answer costs, less disturbed by other processes than throughput. */
  gatewayCpuMsPerAnswer: number | null;
  upstreamPerAnswer: number;
  /** Answers served whole from the response tier, and keys from the upstream tier, over all lookups of each. */
  hitRatio: { responses: number | null; upstream: number | null };
  /** Resident memory of the gateway process after the run, in MiB (null off Linux). */
  rssMiB: number | null;
  /** Mean time in the gateway per answer (virtualize_operation_duration_seconds: from the request's parameters to its result), in ms. */
  gatewayMsMean: number | null;
}

export interface DashboardResult {
  workload: DashboardOptions & { distinctCustomers: number };
  cold: DashboardRun;
  /** Caches on, starting empty: every first ask of a customer is a miss. */
  hot: DashboardRun;
  /** The same sequence again (`filledPasses` times) on the same gateway, its caches filled by the first pass (within their TTLs). */
  warm: DashboardRun;
  /** Throughput against cold: hot (first pass) and warm (second pass). */
  speedup: { hot: number; warm: number };
}

/** mulberry32: a small seeded generator, so that both gateways get the very same sequence. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The sequence of customer ids: with probability `repeatRate` a customer asked before, chosen by
 * Zipf rank among those (the first asked are the most popular), else the next new customer.
 */
export function dashboardSequence(options: DashboardOptions): string[] {
  const ids = sandboxDataset().crm.contacts.slice(0, options.customers).map((contact) => contact.Id);
  const next = random(options.seed);
  const asked: string[] = [];
  const sequence: string[] = [];
  let weights: number[] = [];
  let total = 0;
  for (let i = 0; i < options.requests; i++) {
    const repeat = asked.length > 0 && (next() < options.repeatRate || asked.length >= ids.length);
    if (!repeat) {
      const id = ids[asked.length]!;
      asked.push(id);
      const weight = 1 / Math.pow(asked.length, options.zipfExponent);
      weights.push(weight);
      total += weight;
      sequence.push(id);
      continue;
    }
    let pick = next() * total;
    let rank = 0;
    while (rank < weights.length - 1 && pick >= weights[rank]!) pick -= weights[rank++]!;
    sequence.push(asked[rank]!);
  }
  weights = [];
  return sequence;
}

/** CPU time the whole machine spent busy (all CPUs, every process), in ms; null where /proc is not there. */
function machineBusyMs(): number | null {
  try {
    // The first line sums all CPUs, in clock ticks (100 Hz on Linux): user nice system idle iowait irq softirq steal ...
    const ticks = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1, 9).map(Number);
    const [user, nice, system, , , irq, softirq, steal] = ticks;
    return (user! + nice! + system! + irq! + softirq! + steal!) * 10;
  } catch {
    return null;
  }
}

function rssMiB(pid: number): number | null {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Math.round((Number(match[1]) / 1024) * 10) / 10 : null;
  } catch {
    return null;
  }
}

/** What the gateway's /metrics says at one moment, for the differences over a run. */
interface Scrape {
  /** virtualize_cache_requests_total by `tier.result`. */
  cache: Record<string, number>;
  /** virtualize_operations_total by outcome. */
  outcomes: Record<string, number>;
  /** Sum and count of the operation-duration histogram, over all its series. */
  operationSeconds: { sum: number; count: number };
}

async function scrape(metricsUrl: string): Promise<Scrape> {
  const response = await fetch(metricsUrl);
  if (!response.ok) throw new Error(`${metricsUrl} answered ${response.status}`);
  const text = await response.text();
  const cache: Record<string, number> = {};
  for (const match of text.matchAll(/^virtualize_cache_requests_total\{tier="(\w+)",result="(\w+)"\} (\d+)/gm)) cache[`${match[1]}.${match[2]}`] = Number(match[3]);
  const outcomes: Record<string, number> = {};
  for (const match of text.matchAll(/^virtualize_operations_total\{([^}]*)\} (\d+)/gm)) {
    const outcome = /outcome="(\w+)"/.exec(match[1]!)?.[1] ?? 'unknown';
    outcomes[outcome] = (outcomes[outcome] ?? 0) + Number(match[2]);
  }
  let sum = 0;
  let count = 0;
  for (const match of text.matchAll(/^virtualize_operation_duration_seconds_(sum|count)\{[^}]*\} ([0-9.e+-]+)/gm)) {
    if (match[1] === 'sum') sum += Number(match[2]);
    else count += Number(match[2]);
  }
  return { cache, outcomes, operationSeconds: { sum, count } };
}

function difference(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(after).map(([key, value]) => [key, value - (before[key] ?? 0)]));
}

function ratio(counts: Record<string, number>, tier: string): number | null {
  const hits = (counts[`${tier}.hit`] ?? 0) + (counts[`${tier}.stale`] ?? 0);
  const all = hits + (counts[`${tier}.miss`] ?? 0);
  return all === 0 ? null : Math.round((hits / all) * 1000) / 1000;
}

export interface DashboardGateway {
  /** The GraphQL endpoint. */
  url: string;
  pid: number;
}

async function run(
  name: string,
  load: LoadGenerator,
  gateway: DashboardGateway,
  control: SandboxControl,
  sequence: readonly string[],
  passes: number,
  clients: number,
): Promise<DashboardRun> {
  await control.reset();
  const metricsUrl = gateway.url.replace(/\/graphql$/, '/metrics');
  const before = await scrape(metricsUrl);
  const cpuBefore = processCpuMs(gateway.pid);
  const machineBefore = machineBusyMs();
  const result = await load.run({
    url: gateway.url,
    query: DASHBOARD_QUERY,
    ids: [...sequence],
    passes,
    connections: clients,
    headers: {},
    // One API key per dashboard, as measureConcurrent does: each spends its own query budget.
    clientKeys: { header: 'x-api-key', prefix: 'bench-client-', count: Math.min(clients, BENCH_CLIENT_KEY_COUNT) },
    idPath: ['customer', 'id'],
    timeoutSeconds: 10,
  });
  const cpuAfter = processCpuMs(gateway.pid);
  const machineAfter = machineBusyMs();
  const stats = await control.stats();
  const upstream = Object.values(stats).reduce((sum, system) => sum + system.total, 0);
  const after = await scrape(metricsUrl);
  const cache = difference(after.cache, before.cache);
  const outcomes = difference(after.outcomes, before.outcomes);
  const operations = after.operationSeconds.count - before.operationSeconds.count;
  const share = (cpuMs: number) => Math.round((cpuMs / result.wallMs) * 100) / 100;
  return {
    name,
    requests: result.requests,
    passes,
    answers: result.answers,
    failures: result.failures,
    gatewayFailedOperations: Object.entries(outcomes).reduce((sum, [outcome, n]) => (outcome === 'ok' ? sum : sum + n), 0),
    latencyMs: result.latencyMs,
    throughputPerSecond: Math.round((result.answers / result.wallMs) * 1000 * 10) / 10,
    wallMs: Math.round(result.wallMs),
    cpuShare: { gateway: cpuBefore === null || cpuAfter === null ? null : share(cpuAfter - cpuBefore), loadGenerator: share(result.cpuMs), machine: machineBefore === null || machineAfter === null ? null : share(machineAfter - machineBefore) },
    gatewayCpuMsPerAnswer: cpuBefore === null || cpuAfter === null || result.answers === 0 ? null : Math.round(((cpuAfter - cpuBefore) / result.answers) * 1000) / 1000,
    upstreamPerAnswer: result.answers > 0 ? Math.round((upstream / result.answers) * 100) / 100 : 0,
    hitRatio: { responses: ratio(cache, 'response'), upstream: ratio(cache, 'upstream') },
    rssMiB: rssMiB(gateway.pid),
    gatewayMsMean: operations > 0 ? Math.round(((after.operationSeconds.sum - before.operationSeconds.sum) / operations) * 1000 * 100) / 100 : null,
  };
}

export async function measureDashboard(
  gateways: { cold: DashboardGateway; hot: DashboardGateway },
  load: LoadGenerator,
  control: SandboxControl,
  options: DashboardOptions,
): Promise<DashboardResult> {
  const sequence = dashboardSequence(options);
  const cold = await run('virtualize, caches off', load, gateways.cold, control, sequence, 1, options.clients);
  const hot = await run('virtualize, caches on, first pass', load, gateways.hot, control, sequence, 1, options.clients);
  const warm = await run('virtualize, caches on, second pass', load, gateways.hot, control, sequence, options.filledPasses, options.clients);
  const speed = (row: DashboardRun) => Math.round((row.throughputPerSecond / cold.throughputPerSecond) * 10) / 10;
  return { workload: { ...options, distinctCustomers: new Set(sequence).size }, cold, hot, warm, speedup: { hot: speed(hot), warm: speed(warm) } };
}

/** Failures of any run, one line each, for the report and for the exit status. */
export function dashboardFailures(result: DashboardResult): string[] {
  return [result.cold, result.hot, result.warm]
    .filter((row) => row.failures.count > 0 || row.gatewayFailedOperations > 0)
    .map(
      (row) =>
        `${row.name}: ${row.failures.count} of ${row.requests} requests failed (${Object.entries(row.failures.byKind)
          .filter(([, n]) => n > 0)
          .map(([kind, n]) => `${kind} ${n}`)
          .join(', ') || 'none at the client'}), ${row.gatewayFailedOperations} operations failed at the gateway; first: ${row.failures.samples.join(' | ') || '-'}`,
    );
}

export function formatDashboard(result: DashboardResult): string {
  const { workload } = result;
  const percent = (share: number | null) => (share === null ? '-' : `${Math.round(share * 100)}%`);
  const lines = [
    `Dashboard workload: a sequence of ${workload.requests} customer 360s by id, ${workload.clients} clients (request i from API key dashboard-<1 + i mod ${workload.clients}>), ${workload.distinctCustomers} distinct customers (Zipf s=${workload.zipfExponent}, ${workload.repeatRate * 100}% repeats); caches off and the first pass go through it once, the second pass ${workload.filledPasses} times; load from autocannon in a process of its own`,
    '| gateway | requests | failed | answers/s | p50 ms | p95 ms | gateway ms/answer | gateway CPU ms/answer | gateway CPU | load generator CPU | machine CPU | response hit ratio | upstream hit ratio | upstream calls/answer | RSS MiB |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const row of [result.cold, result.hot, result.warm]) {
    lines.push(
      `| ${row.name} | ${row.requests} | ${row.failures.count === row.gatewayFailedOperations ? row.failures.count : `${row.failures.count} (gateway: ${row.gatewayFailedOperations})`} | ${row.throughputPerSecond} | ${row.latencyMs?.p50 ?? '-'} | ${row.latencyMs?.p95 ?? '-'} | ${row.gatewayMsMean ?? '-'} | ${row.gatewayCpuMsPerAnswer ?? '-'} | ${percent(row.cpuShare.gateway)} | ${percent(row.cpuShare.loadGenerator)} | ${percent(row.cpuShare.machine)} | ${row.hitRatio.responses ?? '-'} | ${row.hitRatio.upstream ?? '-'} | ${row.upstreamPerAnswer} | ${row.rssMiB ?? '-'} |`,
    );
  }
  lines.push(`throughput against caches off: first pass ${result.speedup.hot}x, second pass ${result.speedup.warm}x (hit ratios are lookups served from memory over all lookups of the tier during that run; upstream lookups happen only for answers the response tier did not serve; gateway ms/answer is time inside the operation, gateway CPU ms/answer the whole process's CPU time, HTTP included; CPU is CPU time over wall time, 100% = one CPU, machine = every process on its ${cpus().length} CPUs)`);
  for (const failure of dashboardFailures(result)) lines.push(`FAILED: ${failure}`);
  return lines.join('\n');
}
