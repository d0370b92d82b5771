/**
 * Timing and upstream counting. Upstream calls are counted where they land, at the sandboxes, read
 * over HTTP from their `/_sandbox/*` control endpoints (which they do not count), so that a gateway
 * cannot under-report its own fan-out. Control calls happen only between timed requests.
 */
import { performance } from 'node:perf_hooks';
import { Agent, request } from 'undici';
import type { KnobChange, SandboxStats } from '../sources/sandbox';
import type { GraphQLClient } from './graphql-client';
import { benchClientKey, SYSTEMS, type SandboxUrls, type SystemName } from './project';

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
  /** Per system, the most requests it served at once during any one answer. */
  peakInFlight: Record<SystemName, number>;
}

export interface ConcurrentResult {
  clients: number;
  latencyMs: Distribution;
  /** Upstream calls over the whole run divided by the answers. */
  upstreamPerAnswer: number;
  throughputPerSecond: number;
  wallMs: number;
  /** Per system, the most requests it served at once during the run. */
  peakInFlight: Record<SystemName, number>;
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

/** The sandboxes' control endpoints, on a connection pool of their own. */
export class SandboxControl {
  private readonly agent = new Agent({ keepAliveTimeout: 30_000 });

  constructor(readonly urls: SandboxUrls) {}

  private async call(method: 'GET' | 'POST', url: string, expected: number, body?: unknown): Promise<unknown> {
    const response = await request(url, {
      method,
      dispatcher: this.agent,
      headers: body === undefined ? { accept: 'application/json' } : { 'content-type': 'application/json', accept: 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.body.text();
    if (response.statusCode !== expected) throw new Error(`${method} ${url} answered ${response.statusCode}: ${text.slice(0, 200)}`);
    return text === '' ? undefined : JSON.parse(text);
  }

  /** Sets every system's latency and checks that each took it. */
  async setLatency(latencyMs: number): Promise<void> {
    await Promise.all(
      SYSTEMS.map(async (system) => {
        const knobs = (await this.call('POST', `${this.urls[system]}/_sandbox/knobs`, 200, { latencyMs })) as { latencyMs?: unknown };
        if (knobs?.latencyMs !== latencyMs) throw new Error(`${system} sandbox reports latency ${JSON.stringify(knobs?.latencyMs)} ms, not ${latencyMs}`);
      }),
    );
  }

  /** Changes one system's fault knobs (see sources/sandbox/faults.ts). */
  async setKnobs(system: SystemName, knobs: KnobChange): Promise<void> {
    await this.call('POST', `${this.urls[system]}/_sandbox/knobs`, 200, knobs);
  }

  async reset(): Promise<void> {
    await Promise.all(SYSTEMS.map((system) => this.call('POST', `${this.urls[system]}/_sandbox/reset`, 204)));
  }

  async stats(): Promise<Record<SystemName, SandboxStats>> {
    const all = await Promise.all(SYSTEMS.map(async (system) => [system, (await this.call('GET', `${this.urls[system]}/_sandbox/stats`, 200)) as SandboxStats] as const));
    return Object.fromEntries(all) as Record<SystemName, SandboxStats>;
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}

interface Upstream {
  total: number;
  byRoute: Record<string, number>;
  peakInFlight: Record<SystemName, number>;
}

async function upstream(control: SandboxControl): Promise<Upstream> {
  const stats = await control.stats();
  const byRoute: Record<string, number> = {};
  let total = 0;
  for (const system of SYSTEMS) {
    total += stats[system].total;
    for (const [route, n] of Object.entries(stats[system].byRoute)) byRoute[`${system} ${route}`] = n;
  }
  return { total, byRoute, peakInFlight: { crm: stats.crm.peakInFlight, orders: stats.orders.peakInFlight, support: stats.support.peakInFlight } };
}

async function timed(client: GraphQLClient, operation: Operation, headers?: Record<string, string>): Promise<number> {
  const started = performance.now();
  await client.query(operation.query, operation.variables, headers);
  return performance.now() - started;
}

/** One request at a time: after the warm-ups, each answer is timed and its upstream calls counted alone. */
export async function measureSequential(
  client: GraphQLClient,
  control: SandboxControl,
  operation: Operation,
  options: { warmups: number; requests: number },
): Promise<SequentialResult> {
  for (let i = 0; i < options.warmups; i += 1) await timed(client, operation);
  const latencies: number[] = [];
  const counts: number[] = [];
  let byRoute: Record<string, number> = {};
  const peakInFlight: Record<SystemName, number> = { crm: 0, orders: 0, support: 0 };
  for (let i = 0; i < options.requests; i += 1) {
    await control.reset();
    latencies.push(await timed(client, operation));
    const calls = await upstream(control);
    counts.push(calls.total);
    byRoute = calls.byRoute;
    for (const system of SYSTEMS) peakInFlight[system] = Math.max(peakInFlight[system], calls.peakInFlight[system]);
  }
  return {
    warmups: options.warmups,
    latencyMs: distribution(latencies),
    upstreamPerAnswer: { min: Math.min(...counts), max: Math.max(...counts), byRoute },
    peakInFlight,
  };
}

/**
 * `clients` closed-loop clients share `requests` requests: each sends its next as soon as its last
 * is answered. Each sends its own API key, as separate dashboards do, so that each spends its own
 * query budget at virtualize.
 */
export async function measureConcurrent(
  client: GraphQLClient,
  control: SandboxControl,
  operation: Operation,
  options: { clients: number; requests: number },
): Promise<ConcurrentResult> {
  await control.reset();
  const latencies: number[] = [];
  let issued = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: options.clients }, async (_, i) => {
      const headers = { 'x-api-key': benchClientKey(i) };
      while (issued < options.requests) {
        issued += 1;
        latencies.push(await timed(client, operation, headers));
      }
    }),
  );
  const wallMs = performance.now() - started;
  const calls = await upstream(control);
  return {
    clients: options.clients,
    latencyMs: distribution(latencies),
    upstreamPerAnswer: calls.total / latencies.length,
    throughputPerSecond: Math.round((latencies.length / wallMs) * 1000 * 10) / 10,
    wallMs: Math.round(wallMs),
    peakInFlight: calls.peakInFlight,
  };
}
