/**
 * The dashboard phase: many dashboards polling customer 360s, a few customers far more often than
 * the rest (Zipf), 80% of requests repeating a customer already asked. The same request sequence
 * goes to virtualize with its cache tiers off (cold) and on (hot, starting empty), each gateway in
 * a child process of its own, at fixed concurrency: throughput, p50/p95, hit ratio, upstream calls
 * per answer and the gateway process's resident memory after the run.
 */
import { readFileSync } from 'node:fs';
import { sandboxDataset } from '../sources/sandbox';
import type { GraphQLClient } from './graphql-client';
import { distribution, type Distribution, type SandboxControl } from './measure';

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
  requests: number;
  clients: number;
  /** Customers that dashboards ask about. */
  customers: number;
  repeatRate: number;
  zipfExponent: number;
  seed: number;
}

export interface DashboardRun {
  name: string;
  latencyMs: Distribution;
  throughputPerSecond: number;
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
  /** The same sequence again on the same gateway, its caches filled by the first pass (within their TTLs). */
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

function rssMiB(pid: number): number | null {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Math.round((Number(match[1]) / 1024) * 10) / 10 : null;
  } catch {
    return null;
  }
}

async function cacheCounts(metricsUrl: string): Promise<Record<string, number>> {
  const text = await (await fetch(metricsUrl)).text();
  const counts: Record<string, number> = {};
  for (const match of text.matchAll(/^virtualize_cache_requests_total\{tier="(\w+)",result="(\w+)"\} (\d+)/gm)) counts[`${match[1]}.${match[2]}`] = Number(match[3]);
  return counts;
}

/** Sum and count of the operation-duration histogram, over all its series. */
async function operationSeconds(metricsUrl: string): Promise<{ sum: number; count: number }> {
  const text = await (await fetch(metricsUrl)).text();
  let sum = 0;
  let count = 0;
  for (const match of text.matchAll(/^virtualize_operation_duration_seconds_(sum|count)\{[^}]*\} ([0-9.e+-]+)/gm)) {
    if (match[1] === 'sum') sum += Number(match[2]);
    else count += Number(match[2]);
  }
  return { sum, count };
}

function ratio(counts: Record<string, number>, tier: string): number | null {
  const hits = (counts[`${tier}.hit`] ?? 0) + (counts[`${tier}.stale`] ?? 0);
  const all = hits + (counts[`${tier}.miss`] ?? 0);
  return all === 0 ? null : Math.round((hits / all) * 1000) / 1000;
}

async function run(name: string, client: GraphQLClient, pid: number, control: SandboxControl, sequence: readonly string[], clients: number): Promise<DashboardRun> {
  await control.reset();
  const metricsUrl = client.url.replace(/\/graphql$/, '/metrics');
  const durationsBefore = await operationSeconds(metricsUrl);
  const latencies: number[] = [];
  let cursor = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (cursor < sequence.length) {
        const id = sequence[cursor++]!;
        const at = performance.now();
        await client.query(DASHBOARD_QUERY, { id }, { 'x-virtualize-scope': 'dashboards' });
        latencies.push(performance.now() - at);
      }
    }),
  );
  const wallMs = performance.now() - started;
  const stats = await control.stats();
  const upstream = Object.values(stats).reduce((sum, system) => sum + system.total, 0);
  const counts = await cacheCounts(metricsUrl);
  const durationsAfter = await operationSeconds(metricsUrl);
  const answers = durationsAfter.count - durationsBefore.count;
  return {
    name,
    latencyMs: distribution(latencies),
    throughputPerSecond: Math.round((sequence.length / wallMs) * 1000 * 10) / 10,
    upstreamPerAnswer: Math.round((upstream / sequence.length) * 100) / 100,
    hitRatio: { responses: ratio(counts, 'response'), upstream: ratio(counts, 'upstream') },
    rssMiB: rssMiB(pid),
    gatewayMsMean: answers > 0 ? Math.round(((durationsAfter.sum - durationsBefore.sum) / answers) * 1000 * 100) / 100 : null,
  };
}

export async function measureDashboard(
  gateways: { cold: { client: GraphQLClient; pid: number }; hot: { client: GraphQLClient; pid: number } },
  control: SandboxControl,
  options: DashboardOptions,
): Promise<DashboardResult> {
  const sequence = dashboardSequence(options);
  const cold = await run('virtualize, caches off', gateways.cold.client, gateways.cold.pid, control, sequence, options.clients);
  const hot = await run('virtualize, caches on, first pass', gateways.hot.client, gateways.hot.pid, control, sequence, options.clients);
  const before = await cacheCounts(gateways.hot.client.url.replace(/\/graphql$/, '/metrics'));
  const second = await run('virtualize, caches on, second pass', gateways.hot.client, gateways.hot.pid, control, sequence, options.clients);
  // Hit ratios of the second pass alone: the counters are cumulative.
  const after = await cacheCounts(gateways.hot.client.url.replace(/\/graphql$/, '/metrics'));
  const delta = Object.fromEntries(Object.entries(after).map(([key, value]) => [key, value - (before[key] ?? 0)]));
  const warm = { ...second, hitRatio: { responses: ratio(delta, 'response'), upstream: ratio(delta, 'upstream') } };
  const speed = (row: DashboardRun) => Math.round((row.throughputPerSecond / cold.throughputPerSecond) * 10) / 10;
  return { workload: { ...options, distinctCustomers: new Set(sequence).size }, cold, hot, warm, speedup: { hot: speed(hot), warm: speed(warm) } };
}

export function formatDashboard(result: DashboardResult): string {
  const { workload } = result;
  const lines = [
    `Dashboard workload: ${workload.requests} customer 360s by id, ${workload.clients} clients, ${workload.distinctCustomers} distinct customers (Zipf s=${workload.zipfExponent}, ${workload.repeatRate * 100}% repeats), same sequence for both`,
    '| gateway | answers/s | p50 ms | p95 ms | gateway ms/answer | response hit ratio | upstream hit ratio | upstream calls/answer | RSS MiB |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const row of [result.cold, result.hot, result.warm]) {
    lines.push(
      `| ${row.name} | ${row.throughputPerSecond} | ${row.latencyMs.p50} | ${row.latencyMs.p95} | ${row.gatewayMsMean ?? '-'} | ${row.hitRatio.responses ?? '-'} | ${row.hitRatio.upstream ?? '-'} | ${row.upstreamPerAnswer} | ${row.rssMiB ?? '-'} |`,
    );
  }
  lines.push(`throughput against caches off: first pass ${result.speedup.hot}x, second pass ${result.speedup.warm}x (hit ratios are lookups served from memory over all lookups of the tier; upstream lookups happen only for answers the response tier did not serve)`);
  return lines.join('\n');
}
