/**
 * Timing and upstream counting. Upstream calls are counted where they land, at the sandboxes
 * (`stats()`), so that a gateway cannot under-report its own fan-out.
 */
import { performance } from 'node:perf_hooks';
import type { Sandboxes } from '../sources/sandbox';
import type { GraphQLClient } from './graphql-client';

export interface Operation {
  query: string;
  variables: Record<string, unknown>;
}

export interface Distribution {
  n: number;
  p50: number;
  p95: number;
  min: number;
  max: number;
  mean: number;
}

export interface SequentialResult {
  warmups: number;
  latencyMs: Distribution;
  /** Upstream calls of each measured answer (counted one answer at a time). */
  upstreamPerAnswer: { min: number; max: number; byRoute: Record<string, number> };
}

export interface ConcurrentResult {
  clients: number;
  latencyMs: Distribution;
  /** Upstream calls over the whole run divided by the answers. */
  upstreamPerAnswer: number;
  throughputPerSecond: number;
  wallMs: number;
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: readonly number[], p: number): number {
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] as number;
}

export function distribution(samples: readonly number[]): Distribution {
  if (samples.length === 0) throw new Error('no samples to summarize');
  const sorted = [...samples].sort((a, b) => a - b);
  const round = (ms: number) => Math.round(ms * 10) / 10;
  return {
    n: sorted.length,
    p50: round(percentile(sorted, 50)),
    p95: round(percentile(sorted, 95)),
    min: round(sorted[0] as number),
    max: round(sorted[sorted.length - 1] as number),
    mean: round(sorted.reduce((a, b) => a + b, 0) / sorted.length),
  };
}

function resetUpstream(sandboxes: Sandboxes): void {
  sandboxes.crm.resetStats();
  sandboxes.orders.resetStats();
  sandboxes.support.resetStats();
}

function upstream(sandboxes: Sandboxes): { total: number; byRoute: Record<string, number> } {
  const byRoute: Record<string, number> = {};
  let total = 0;
  for (const [system, handle] of [['crm', sandboxes.crm], ['orders', sandboxes.orders], ['support', sandboxes.support]] as const) {
    const stats = handle.stats();
    total += stats.total;
    for (const [route, n] of Object.entries(stats.byRoute)) byRoute[`${system} ${route}`] = n;
  }
  return { total, byRoute };
}

async function timed(client: GraphQLClient, operation: Operation): Promise<number> {
  const started = performance.now();
  await client.query(operation.query, operation.variables);
  return performance.now() - started;
}

/** One request at a time: after the warm-ups, each answer is timed and its upstream calls counted alone. */
export async function measureSequential(
  client: GraphQLClient,
  sandboxes: Sandboxes,
  operation: Operation,
  options: { warmups: number; requests: number },
): Promise<SequentialResult> {
  for (let i = 0; i < options.warmups; i += 1) await timed(client, operation);
  const latencies: number[] = [];
  const counts: number[] = [];
  let byRoute: Record<string, number> = {};
  for (let i = 0; i < options.requests; i += 1) {
    resetUpstream(sandboxes);
    latencies.push(await timed(client, operation));
    const calls = upstream(sandboxes);
    counts.push(calls.total);
    byRoute = calls.byRoute;
  }
  return {
    warmups: options.warmups,
    latencyMs: distribution(latencies),
    upstreamPerAnswer: { min: Math.min(...counts), max: Math.max(...counts), byRoute },
  };
}

/** `clients` closed-loop clients share `requests` requests: each sends its next as soon as its last is answered. */
export async function measureConcurrent(
  client: GraphQLClient,
  sandboxes: Sandboxes,
  operation: Operation,
  options: { clients: number; requests: number },
): Promise<ConcurrentResult> {
  resetUpstream(sandboxes);
  const latencies: number[] = [];
  let issued = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: options.clients }, async () => {
      while (issued < options.requests) {
        issued += 1;
        latencies.push(await timed(client, operation));
      }
    }),
  );
  const wallMs = performance.now() - started;
  return {
    clients: options.clients,
    latencyMs: distribution(latencies),
    upstreamPerAnswer: upstream(sandboxes).total / latencies.length,
    throughputPerSecond: Math.round((latencies.length / wallMs) * 1000 * 10) / 10,
    wallMs: Math.round(wallMs),
  };
}
