/** The benchmark's printed table and its JSON record. */
import type { Minimum } from './minimum';
import { ROUNDS, type GuardOverhead } from './guard-overhead';
import type { ConcurrentResult, SequentialResult } from './measure';
import type { SoakResult } from './soak';
import type { TracingOverhead } from './tracing-overhead';

export interface GatewayResult {
  name: string;
  description: string;
  sequential: SequentialResult;
  concurrent: ConcurrentResult;
}

/** The query guard's own work per request, and its share of a whole request. */
export interface GuardResult extends GuardOverhead {
  /** virtualize's sequential p50 with the sources answering at once: the closest to a hot, cached request. */
  zeroLatencyP50Ms: number;
  /** `microseconds.perRequest` over virtualize's sequential p50, at the benchmark latency and at zero latency. */
  shareOfRequest: { atLatency: number; atZeroLatency: number };
}

export interface BenchResults {
  /** The dashboard phase: caches off against on (bench/dashboard.ts). */
  dashboard?: import('./dashboard').DashboardResult;
  operation: { name: string; variables: Record<string, unknown>; query: string };
  latencyPerSourceCallMs: number;
  environment: { node: string; platform: string; cpus: number; date: string; processes: string };
  minimum: Minimum;
  gateways: GatewayResult[];
  /** naive / virtualize for each measure. */
  ratios: Record<string, number>;
  guard: GuardResult;
  /** Absent when the soak was skipped (BENCH_SOAK=0). */
  soak?: SoakResult;
  tracing: TracingOverhead;
  /** The hostile catalogue: event-loop delay and /healthz beside each case (bench/hostile.ts). */
  hostile?: import('./hostile').HostileResult;
  /** Six upstream answers of 400 MB at once against the default maxResponseBytes (bench/upstream-flood.ts). */
  upstreamFlood?: import('./upstream-flood').FloodResult;
  /** Authentication and authorization on against anonymous access (bench/auth-overhead.ts). */
  auth?: import('./auth-overhead').AuthOverhead;
}

const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100;

function calls(result: GatewayResult): string {
  const { min, max } = result.sequential.upstreamPerAnswer;
  return min === max ? String(min) : `${min}-${max}`;
}

export function ratios(naive: GatewayResult, virtualize: GatewayResult): Record<string, number> {
  return {
    upstreamCalls: ratio(naive.sequential.upstreamPerAnswer.max, virtualize.sequential.upstreamPerAnswer.max),
    sequentialP50: ratio(naive.sequential.latencyMs.p50, virtualize.sequential.latencyMs.p50),
    sequentialP95: ratio(naive.sequential.latencyMs.p95, virtualize.sequential.latencyMs.p95),
    concurrentP50: ratio(naive.concurrent.latencyMs.p50, virtualize.concurrent.latencyMs.p50),
    concurrentP95: ratio(naive.concurrent.latencyMs.p95, virtualize.concurrent.latencyMs.p95),
    throughput: ratio(naive.concurrent.throughputPerSecond, virtualize.concurrent.throughputPerSecond),
  };
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length)));
  return rows.map((row) => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ')).join('\n');
}

/** Tracing off against on, and what tracing costs in throughput and latency. */
function formatTracing(tracing: TracingOverhead): string[] {
  const percent = (n: number) => `${n >= 0 ? '+' : ''}${(n * 100).toFixed(1)}%`;
  const { off, on, ratios: r } = tracing;
  return [
    `tracing off against on: virtualize and a traced copy (${tracing.exporter}); ${tracing.rounds} interleaved rounds of ` +
      `${tracing.sequentialRequestsPerRound} sequential and ${tracing.concurrentRequestsPerRound} concurrent requests from ${tracing.clients} clients`,
    '',
    table([
      ['tracing', 'answers/s', `c=${tracing.clients} p50 ms`, 'seq p50 ms', 'CPU ms/answer'],
      ...[['off', off] as const, ['on', on] as const].map(([name, side]) => [
        name,
        side.throughputPerSecond.toFixed(1),
        `${Math.round(side.concurrentP50Ms)}`,
        `${Math.round(side.sequentialP50Ms)}`,
        side.cpuMsPerAnswer?.toFixed(1) ?? 'n/a',
      ]),
      ['on/off', `${r.throughput.toFixed(3)}x`, `${r.concurrentP50.toFixed(3)}x`, `${r.sequentialP50.toFixed(3)}x`, r.cpuPerAnswer === null ? 'n/a' : `${r.cpuPerAnswer.toFixed(3)}x`],
      ['cost of tracing', percent(1 - r.throughput), percent(r.concurrentP50 - 1), percent(r.sequentialP50 - 1), r.cpuPerAnswer === null ? 'n/a' : percent(r.cpuPerAnswer - 1)],
    ]),
    '',
    `exported per traced answer: ${tracing.spansPerAnswer} spans, ${tracing.exportBytesPerAnswer} bytes (${tracing.exportRequests} export requests in all)`,
  ];
}

export function formatResults(results: BenchResults): string {
  const { minimum: min, gateways } = results;
  const [first] = gateways;
  const seq = first!.sequential;
  const conc = first!.concurrent;
  const ms = (n: number) => `${Math.round(n)}`;
  const header = [
    'gateway',
    'calls/answer',
    'vs min',
    'seq p50 ms',
    'seq p95 ms',
    `c=${conc.clients} p50 ms`,
    `c=${conc.clients} p95 ms`,
    'answers/s',
    'seq p50 vs floor',
  ];
  const row = (g: GatewayResult): string[] => [
    g.name,
    calls(g),
    `${ratio(g.sequential.upstreamPerAnswer.max, min.calls.total).toFixed(2)}x`,
    ms(g.sequential.latencyMs.p50),
    ms(g.sequential.latencyMs.p95),
    ms(g.concurrent.latencyMs.p50),
    ms(g.concurrent.latencyMs.p95),
    g.concurrent.throughputPerSecond.toFixed(1),
    `${ratio(g.sequential.latencyMs.p50, min.floorMs).toFixed(2)}x`,
  ];
  const compared = ['virtualize', 'naive'];
  const r = results.ratios;
  const x = (n: number | undefined) => `${(n ?? NaN).toFixed(2)}x`;
  const rows = [
    ...gateways.filter((g) => compared.includes(g.name)).map(row),
    ['naive/virtualize', x(r.upstreamCalls), '', x(r.sequentialP50), x(r.sequentialP95), x(r.concurrentP50), x(r.concurrentP95), x(r.throughput), ''],
    ...gateways.filter((g) => !compared.includes(g.name)).map(row),
    ['minimum / floor', String(min.calls.total), '1.00x', ms(min.floorMs), ms(min.floorMs), '', '', '', '1.00x'],
  ];

  return [
    `${results.operation.name}: customers(first: ${min.customers}) with orders and tickets, ${results.latencyPerSourceCallMs} ms per source call`,
    `node ${results.environment.node}, ${results.environment.cpus} CPUs; sequential: ${seq.latencyMs.n} requests after ${seq.warmups} warm-ups; ` +
      `concurrent: ${conc.latencyMs.n} requests from ${conc.clients} closed-loop clients; ${results.environment.processes}`,
    ...min.explanation,
    '',
    table([header, ...rows]),
    '',
    ...gateways.map(
      (g) =>
        `${g.name}: ${g.description}; calls by route: ${Object.entries(g.sequential.upstreamPerAnswer.byRoute).map(([route, n]) => `${route} ${n}`).join(', ')}; ` +
        `most support-desk calls in flight: ${g.sequential.peakInFlight.support} sequential, ${g.concurrent.peakInFlight.support} with ${g.concurrent.clients} clients`,
    ),
    '',
    formatGuard(results.guard, first!.sequential.latencyMs.p50),
    '',
    ...formatTracing(results.tracing),
  ].join('\n');
}

function formatGuard(guard: GuardResult, p50Ms: number): string {
  const us = guard.microseconds;
  const percent = (share: number) => `${(share * 100).toFixed(2)}%`;
  return (
    `query guard, in process (median of ${ROUNDS} rounds over ${guard.iterations} iterations): ${us.perRequest} µs per request ` +
    `(pricing ${us.price} µs, ${us.priceRemembered} µs when remembered; budget take and give ${us.budget} µs; actual cost ${us.actualCost} µs; shape limits ${us.shapeLimitsFirstSight} µs the first time a document is seen), ` +
    `${percent(guard.shareOfRequest.atLatency)} of virtualize's sequential p50 (${Math.round(p50Ms)} ms) and ` +
    `${percent(guard.shareOfRequest.atZeroLatency)} of its p50 with the sources answering at once (${guard.zeroLatencyP50Ms} ms)`
  );
}
