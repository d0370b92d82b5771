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
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parse } from 'graphql';
import { Authenticator } from '../src/auth/authenticator';
import { deniedFields, surveyDocument } from '../src/auth/document-access';
import { accessModelOf } from '../src/auth/generation-access';
import { partitionOf, PolicyDecisions } from '../src/auth/policies';
import type { VirtualizationConfig } from '../src/config/definition';
import { validateConfig } from '../src/config/validate';
import { createGeneration } from '../src/runtime/generations';
import baseConfig from '../virtualization.config';
import { medianMicroseconds } from './guard-overhead';
import { PROJECT_ROOT } from './project';
import { sandboxDataset, startSandboxes } from '../sources/sandbox';
import { runMain, startChild, type Child } from './children';
import { DASHBOARD_QUERY } from './dashboard';
import { GraphQLClient } from './graphql-client';
import { distribution, type Distribution } from './measure';
import type { SandboxUrls } from './project';
import { processCpuMs } from './tracing-overhead';

const SERVE_GATEWAY = join(__dirname, 'serve-gateway.js');
const ON = 'virtualize, API key';
const OFF = 'virtualize, anonymous';
/** The key sandbox mode accepts with every scope (README, Security). */
const DEMO_KEY = process.env.VIRTUALIZE_DEMO_KEY ?? 'vz_demo_sandbox_all_scopes';
/** Gateways trace only when told to, whatever the environment the benchmark runs in. */
const UNTRACED_ENV: NodeJS.ProcessEnv = { ...process.env, OTEL_SDK_DISABLED: 'true' };

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

/** The steps themselves, in this process (median of rounds, as the guard's are measured). */
export interface AuthSteps {
  iterations: number;
  microseconds: {
    /** An API key checked: parsed from the header, its digest compared with the static keys', the caller made. */
    authenticateApiKey: number;
    /** The document surveyed against the access model, the first time it is seen (later requests reuse it). */
    surveyFirstSight: number;
    /** Per request: the policies decided, the authorization partition, the denied fields. */
    decide: number;
  };
}

export interface AuthOverhead {
  steps?: AuthSteps;
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

/** Authentication and authorization step by step, in this process, on the phase's request. */
export async function measureAuthSteps(config: VirtualizationConfig, iterations = 2_000): Promise<AuthSteps> {
  const gateway = await createGeneration(config, { baseDir: PROJECT_ROOT, env: process.env });
  const authenticator = new Authenticator({ config: config.auth, env: { VIRTUALIZE_DEMO_KEY: DEMO_KEY } });
  try {
    const model = accessModelOf(gateway);
    const request = { headers: { 'x-api-key': DEMO_KEY }, address: '127.0.0.1' };
    const caller = await authenticator.authenticate(request);
    const document = parse(DASHBOARD_QUERY);
    const access = surveyDocument(model, gateway.schema, document, 'Dashboard360');
    const round = (us: number) => Math.round(us * 10) / 10;
    const authenticateApiKey = await medianMicroseconds(iterations, () => authenticator.authenticate(request));
    const surveyFirstSight = await medianMicroseconds(iterations, () => surveyDocument(model, gateway.schema, document, 'Dashboard360'));
    const decide = await medianMicroseconds(iterations, async () => {
      const outcomes = await new PolicyDecisions(config.auth.authorization.policies, caller).outcomes(access.policies);
      partitionOf(access, caller, outcomes);
      return deniedFields(access, caller, outcomes);
    });
    return { iterations, microseconds: { authenticateApiKey: round(authenticateApiKey), surveyFirstSight: round(surveyFirstSight), decide: round(decide) } };
  } finally {
    authenticator.close();
    await gateway.close();
  }
}

function parseAnnouncement(value: unknown): { name: string; url: string } {
  const record = value as { name?: unknown; url?: unknown } | null;
  if (typeof record?.name !== 'string' || typeof record.url !== 'string' || !record.url.startsWith('http://127.0.0.1:')) {
    throw new Error(`expected {"name": ..., "url": "http://127.0.0.1:<port>/graphql"}, got ${JSON.stringify(value)}`);
  }
  return { name: record.name, url: record.url };
}

/**
 * The phase: four gateways, each in a process of its own (so that /proc gives each one's CPU),
 * with budgets out of the way (thousands of answers a second from one client would rightly be
 * throttled, on both sides alike); sources at `sandboxes`, which should answer at once.
 */
export async function runAuthPhase(sandboxes: SandboxUrls, config: VirtualizationConfig, options: { rounds: number; coldRequests: number; hotRequests: number }): Promise<AuthOverhead> {
  const steps = await measureAuthSteps(config);
  const specs = [
    { name: ON, extra: [] },
    { name: OFF, extra: ['--anonymous'] },
    { name: `${ON}, caches on`, extra: ['--cache'] },
    { name: `${OFF}, caches on`, extra: ['--cache', '--anonymous'] },
  ];
  // One at a time: four gateways starting at once on a busy two-CPU machine can miss their announcement bound.
  const children: Array<Child<{ name: string; url: string }>> = [];
  const clients: GraphQLClient[] = [];
  try {
    for (const { name, extra } of specs) {
      children.push(
        await startChild(
          name,
          [SERVE_GATEWAY, 'virtualize', '--crm', sandboxes.crm, '--orders', sandboxes.orders, '--support', sandboxes.support, '--name', name, '--unbounded-budget', ...extra],
          parseAnnouncement,
          UNTRACED_ENV,
        ),
      );
    }
    const side = (child: Child<{ name: string; url: string }>, headers: Record<string, string>): AuthGateway => {
      const client = new GraphQLClient(child.announced.url);
      clients.push(client);
      return { client, pid: child.pid, headers };
    };
    const keyed = { 'x-api-key': DEMO_KEY };
    const paired = await measureAuthOverhead({
      cold: { on: side(children[0]!, keyed), off: side(children[1]!, {}) },
      hot: { on: side(children[2]!, keyed), off: side(children[3]!, {}) },
      names: { on: ON, off: OFF },
      ...options,
    });
    return { steps, ...paired };
  } finally {
    await Promise.allSettled(clients.map((client) => client.close()));
    await Promise.allSettled(children.map((child) => child.stop()));
  }
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
  const steps = auth.steps?.microseconds;
  return [
    ...(steps
      ? [
          `authentication and authorization in process (median of rounds over ${auth.steps!.iterations} iterations): an API key checked ${steps.authenticateApiKey} µs, ` +
            `the document surveyed ${steps.surveyFirstSight} µs the first time it is seen, policies, partition and denied fields ${steps.decide} µs per request`,
          '',
        ]
      : []),
    `authentication and authorization: ${auth.rounds} interleaved rounds, a customer 360 by id (${auth.customerId}), sources answering at once`,
    '',
    '| request | gateway | CPU ms per answer | p50 ms | p95 ms |',
    '| --- | --- | ---: | ---: | ---: |',
    ...rows,
    '',
    `cost per request: cold ${micro(auth.cold.costMicroseconds.cpu)} CPU (${micro(auth.cold.costMicroseconds.p50)} p50), hot ${micro(auth.hot.costMicroseconds.cpu)} CPU (${micro(auth.hot.costMicroseconds.p50)} p50)`,
  ].join('\n');
}

/** The phase alone (`node dist/bench/auth-overhead.js`): sandboxes in this process, answering at once. */
if (require.main === module) {
  runMain(async () => {
    const sandboxes = await startSandboxes({ latencyMs: 0, ports: { crm: 0, orders: 0, support: 0 } });
    try {
      const urls: SandboxUrls = { crm: sandboxes.crm.url, orders: sandboxes.orders.url, support: sandboxes.support.url };
      console.log(formatAuthOverhead(await runAuthPhase(urls, validateConfig(baseConfig), { rounds: 4, coldRequests: 60, hotRequests: 300 })));
    } finally {
      await sandboxes.close();
    }
  });
}
