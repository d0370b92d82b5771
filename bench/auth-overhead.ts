/**
 * What client authentication and authorization cost per request: the same requests through
 * virtualize as configured (every request authenticated with an API key, its document checked
 * against the schema's access rules) and through a copy that declares `auth.anonymous` with every
 * scope (no credential read; every rule passes), in interleaved rounds (on then off, then off then
 * on, ...) so that a burst of machine noise does not land on one side only.
 *
 * Two kinds of request, each on its own pair of gateways: cold, a dashboard's customer 360 by id
 * with the cache tiers off (every request calls the sources, here answering at once, so that the
 * figure is the gateway's own work), and hot, the same request answered from the response tier.
 * The figure that stands on a shared machine is the gateway process's CPU time per answer (from
 * /proc); latency is reported beside it.
 */
import { performance } from 'node:perf_hooks';
import { sandboxDataset } from '../sources/sandbox';
import { DASHBOARD_QUERY } from './dashboard';
import type { GraphQLClient } from './graphql-client';
import { distribution, type Distribution } from './measure';
import { processCpuMs } from './tracing-overhead';

export interface AuthGateway {
  client: GraphQLClient;
  pid: number;
  /** Sent with every request: the API key of the gateway with authentication on, nothing for anonymous. */
  headers: Record<string, string>;
}

export interface AuthSide {
  /** Gateway CPU (user + system) per answer over every round, in ms; null where /proc is not there. */
  cpuMsPerAnswer: number | null;
  latencyMs: Distribution;
}

export interface AuthKind {
  /** Requests per side per round. */
  requestsPerRound: number;
  on: AuthSide;
  off: AuthSide;
  /** on minus off, per answer, in microseconds: what authentication and authorization cost. */
  costMicroseconds: { cpu: number | null; p50: number };
}

export interface AuthOverhead {
  rounds: number;
  customerId: string;
  on: string;
  off: string;
  cold: AuthKind;
  hot: AuthKind;
}

interface Tally {
  answers: number;
  cpuMs: number | null;
  latencies: number[];
}

async function timed(gateway: AuthGateway, variables: Record<string, unknown>): Promise<number> {
  const started = performance.now();
  await gateway.client.query(DASHBOARD_QUERY, variables, gateway.headers);
  return performance.now() - started;
}

function sideOf(tally: Tally): AuthSide {
  return { cpuMsPerAnswer: tally.cpuMs === null ? null : Math.round((tally.cpuMs / tally.answers) * 1000) / 1000, latencyMs: distribution(tally.latencies) };
}

/** One pair of gateways, `rounds` interleaved rounds of `requests` sequential requests each. */
async function measurePair(pair: { on: AuthGateway; off: AuthGateway }, variables: Record<string, unknown>, rounds: number, requests: number, warmups: number): Promise<AuthKind> {
  const tallies = { on: { answers: 0, cpuMs: 0, latencies: [] } as Tally, off: { answers: 0, cpuMs: 0, latencies: [] } as Tally };
  // Both sides warmed alike (compiled code, pools, the response tier's admission) before anything is measured.
  for (const which of ['on', 'off'] as const) for (let i = 0; i < warmups; i += 1) await timed(pair[which], variables);
  for (let round = 0; round < rounds; round += 1) {
    for (const which of round % 2 === 0 ? (['on', 'off'] as const) : (['off', 'on'] as const)) {
      const gateway = pair[which];
      const tally = tallies[which];
      const before = processCpuMs(gateway.pid);
      for (let i = 0; i < requests; i += 1) tally.latencies.push(await timed(gateway, variables));
      const after = processCpuMs(gateway.pid);
      tally.answers += requests;
      tally.cpuMs = tally.cpuMs === null || before === null || after === null ? null : tally.cpuMs + after - before;
    }
  }
  const on = sideOf(tallies.on);
  const off = sideOf(tallies.off);
  return {
    requestsPerRound: requests,
    on,
    off,
    costMicroseconds: {
      cpu: on.cpuMsPerAnswer === null || off.cpuMsPerAnswer === null ? null : Math.round((on.cpuMsPerAnswer - off.cpuMsPerAnswer) * 1000),
      p50: Math.round((on.latencyMs.p50 - off.latencyMs.p50) * 1000),
    },
  };
}

export async function measureAuthOverhead(options: {
  cold: { on: AuthGateway; off: AuthGateway };
  hot: { on: AuthGateway; off: AuthGateway };
  names: { on: string; off: string };
  rounds: number;
  coldRequests: number;
  hotRequests: number;
}): Promise<AuthOverhead> {
  // A customer with orders and tickets, the same on every side.
  const customerId = sandboxDataset().crm.contacts[0]!.Id;
  const variables = { id: customerId };
  const cold = await measurePair(options.cold, variables, options.rounds, options.coldRequests, 10);
  // Enough warm-ups for the response tier to admit the answer (it admits after a few asks a minute).
  const hot = await measurePair(options.hot, variables, options.rounds, options.hotRequests, 20);
  return { rounds: options.rounds, customerId, on: options.names.on, off: options.names.off, cold, hot };
}

export function formatAuthOverhead(auth: AuthOverhead): string {
  const micro = (n: number | null) => (n === null ? 'n/a' : `${n >= 0 ? '+' : ''}${n} µs`);
  const rows = (['cold', 'hot'] as const).flatMap((kind) => {
    const result = auth[kind];
    return (['on', 'off'] as const).map((side) => {
      const s = result[side];
      return `| ${kind} | ${side === 'on' ? auth.on : auth.off} | ${s.cpuMsPerAnswer === null ? 'n/a' : s.cpuMsPerAnswer.toFixed(3)} | ${s.latencyMs.p50.toFixed(2)} | ${s.latencyMs.p95.toFixed(2)} |`;
    });
  });
  return [
    `authentication and authorization: ${auth.rounds} interleaved rounds, a customer 360 by id (${auth.customerId}), sources answering at once`,
    '',
    '| request | gateway | CPU ms per answer | p50 ms | p95 ms |',
    '| --- | --- | ---: | ---: | ---: |',
    ...rows,
    '',
    `cost per request: cold ${micro(auth.cold.costMicroseconds.cpu)} CPU (${micro(auth.cold.costMicroseconds.p50)} p50), hot ${micro(auth.hot.costMicroseconds.cpu)} CPU (${micro(auth.hot.costMicroseconds.p50)} p50)`,
  ].join('\n');
}
