/**
 * `npm run bench`: the customer 360 over a page of 50 customers, with every source call delayed
 * 25 ms, through virtualize and through a naive per-item gateway in the same run, against the
 * minimum number of upstream calls and the latency floor.
 *
 * Three kinds of process, as in production where the sources are remote: the sandbox systems run
 * in a child process (`virtualize sandbox`), each gateway under test in a child process of its own
 * (`serve-gateway.js`), and this process only generates load, checks answers and counts upstream
 * calls through the sandboxes' control endpoints. Loopback only; every child is stopped by its pid;
 * a watchdog stops them and ends the run if it ever takes longer than its budget.
 *
 * Then virtualize against a copy of itself that traces every operation, spans exported over OTLP
 * to a receiver in a child process of its own (see tracing-overhead.ts). A last phase measures the
 * query guard's own work per request in this process (see guard-overhead.ts), and virtualize once
 * more with the sources answering at once, to say what share of a request the guard takes.
 *
 * Then dashboards (bench/dashboard.ts): a Zipf-distributed sequence of customer 360s by id, 80%
 * repeats, through virtualize with its cache tiers off and through a copy with them on, the load
 * coming from autocannon in a process of its own (bench/load-generator.ts), not from this one.
 *
 * The hostile catalogue (bench/hostile.ts) runs against a gateway in this process, with the
 * sources answering at once: the event-loop delay while each case runs, and /healthz beside it.
 * Then an upstream flood (bench/upstream-flood.ts): six requests at once whose CRM answers 400 MB
 * each, against the default maxResponseBytes; the resident set, the loop and /healthz meanwhile.
 *
 * Last, the soak (bench/soak.ts): a minute of 50 clients on virtualize while one sandbox fails 20%
 * of its requests and another goes down for 15 s. `BENCH_SOAK=0 npm run bench` skips it for a quick
 * run (about 80 s shorter).
 */
import { isDeepStrictEqual } from 'node:util';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import baseConfig from '../virtualization.config';
import { validateConfig } from '../src/config/validate';
import { runMain, startChild, stopGatewaysThenSandboxes, terminateAllNow, type Child } from './children';
import { CUSTOMER_360 } from './customer360';
import { GraphQLClient } from './graphql-client';
import { measureConcurrent, measureSequential, SandboxControl, type ConcurrentResult, type SequentialResult } from './measure';
import { floorWithinLimits, minimumFor } from './minimum';
import { parseSandboxUrls, PROJECT_ROOT, type SandboxUrls } from './project';
import { measureGuardOverhead } from './guard-overhead';
import { formatHostile, measureHostile } from './hostile';
import { formatUpstreamFlood, measureUpstreamFlood } from './upstream-flood';
import { startVirtualize } from './virtualize-gateway';
import { formatResults, ratios, type BenchResults, type GatewayResult, type GuardResult } from './report';
import { formatSoak, runSoak } from './soak';
import { dashboardFailures, formatDashboard, measureDashboard } from './dashboard';
import { startLoadGenerator } from './load';
import { measureTracingOverhead, type ReceiverStats } from './tracing-overhead';
import { formatAuthOverhead, runAuthPhase } from './auth-overhead';

const LATENCY_MS = 25;
const WARMUPS = 3;
const SEQUENTIAL_REQUESTS = 30;
const CLIENTS = 8;
const CONCURRENT_REQUESTS = 80;
const SOAK = process.env.BENCH_SOAK !== '0';
const SOAK_OPTIONS = { clients: 50, faultFreeSeconds: 15, seconds: 60, ordersErrorRate: 0.2, supportOutage: { atSecond: 15, forSeconds: 15 } };
/** The whole run, build excluded: well inside three minutes, plus the soak's 75 s when it runs. */
const BUDGET_MS = 180_000 + (SOAK ? 90_000 : 0);
/** The dashboard phase (bench/dashboard.ts): virtualize with its cache tiers off, then on. */
const CACHED = 'virtualize, caches on';
/**
 * The second pass with caches filled goes through the dashboard sequence this many times: one pass
 * of 1,000 hot answers lasts well under a second, too short for a stable figure, and the response
 * tier's TTL (10 s) bounds how long a pass can last before its entries start to expire.
 */
const FILLED_PASSES = 5;
const DASHBOARD = { requests: 1_000, filledPasses: FILLED_PASSES, clients: 16, customers: 300, repeatRate: 0.8, zipfExponent: 1.1, seed: 7 };
const RESULTS_FILE = join(PROJECT_ROOT, 'bench', 'results', 'latest.json');
const CLI = join(PROJECT_ROOT, 'bin', 'virtualize.js');
const SERVE_GATEWAY = join(__dirname, 'serve-gateway.js');
const OTLP_RECEIVER = join(__dirname, 'otlp-receiver.js');

/** The tracing phase: virtualize as measured above, against a copy that traces every operation. */
const TRACED = 'virtualize, traced';
const TRACING_ROUNDS = 4;
const TRACING_WARMUPS = 40;
const TRACING_CONCURRENT_REQUESTS = 40;
const TRACING_SEQUENTIAL_REQUESTS = 10;
const TRACING_EXPORTER = 'OTLP http/protobuf to a local receiver, batch span processor with the SDK defaults';
/** Gateways trace only when told to, whatever the environment the benchmark runs in. */
const UNTRACED_ENV: NodeJS.ProcessEnv = { ...process.env, OTEL_SDK_DISABLED: 'true' };
const tracedEnv = (receiver: string): NodeJS.ProcessEnv => ({
  ...process.env,
  OTEL_SDK_DISABLED: 'false',
  OTEL_TRACES_EXPORTER: 'otlp',
  OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
  OTEL_EXPORTER_OTLP_ENDPOINT: receiver,
  OTEL_SERVICE_NAME: 'virtualize-bench',
});
/**
 * The paired run of authentication and authorization (bench/auth-overhead.ts): virtualize as
 * configured, each request with the sandbox's demo API key, against copies that declare anonymous
 * access with every scope; cold (cache tiers off) and hot (the response tier answering).
 */
const AUTH_ROUNDS = 4;
const AUTH_COLD_REQUESTS = 60;
const AUTH_HOT_REQUESTS = 300;
const PROCESSES = 'sandboxes, each gateway under test and the load-generating client in separate Node processes (the dashboard phase: autocannon in a process of its own)';

/**
 * A variant of virtualize whose only change is a higher connection limit on the support desk: one
 * wave for the page's 50 lookups. Measured only while it is above the configured limit.
 */
const VARIANT_SUPPORT_LIMIT = 64;
const VARIANT = `virtualize, support limit ${VARIANT_SUPPORT_LIMIT}`;

interface GatewaySpec {
  name: string;
  args: string[];
}

/** The first place where two answers differ, as a path and both values. */
function firstDifference(a: unknown, b: unknown, path = 'data'): string | undefined {
  if (isDeepStrictEqual(a, b)) return undefined;
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
      const found = firstDifference((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key], `${path}.${key}`);
      if (found) return found;
    }
  }
  return `${path}: ${JSON.stringify(a)?.slice(0, 200)} vs ${JSON.stringify(b)?.slice(0, 200)}`;
}

function parseGatewayAnnouncement(value: unknown): { name: string; url: string } {
  const record = value as { name?: unknown; url?: unknown } | null;
  if (typeof record?.name !== 'string' || typeof record.url !== 'string' || !record.url.startsWith('http://127.0.0.1:')) {
    throw new Error(`expected {"name": ..., "url": "http://127.0.0.1:<port>/graphql"}, got ${JSON.stringify(value)}`);
  }
  return { name: record.name, url: record.url };
}

function parseReceiverAnnouncement(value: unknown): { url: string } {
  const url = (value as { url?: unknown } | null)?.url;
  if (typeof url !== 'string' || !url.startsWith('http://127.0.0.1:')) throw new Error(`expected {"url": "http://127.0.0.1:<port>"}, got ${JSON.stringify(value)}`);
  return { url };
}

async function receiverStats(url: string): Promise<ReceiverStats> {
  const response = await fetch(`${url}/stats`);
  if (!response.ok) throw new Error(`${url}/stats answered ${response.status}`);
  return (await response.json()) as ReceiverStats;
}

function gatewayArgs(kind: 'virtualize' | 'naive', sandboxes: SandboxUrls, extra: string[] = []): string[] {
  return [SERVE_GATEWAY, kind, '--crm', sandboxes.crm, '--orders', sandboxes.orders, '--support', sandboxes.support, ...extra];
}

async function main(): Promise<void> {
  const watchdog = setTimeout(() => {
    console.error(`bench: still running after ${BUDGET_MS / 1000} s; stopping the child processes and giving up`);
    terminateAllNow();
    process.exit(1);
  }, BUDGET_MS);
  watchdog.unref();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.error(`bench: ${signal}; stopping the child processes`);
      terminateAllNow();
      process.exit(1);
    });
  }

  const config = validateConfig(baseConfig);
  const operation = { query: CUSTOMER_360.query, variables: { ...CUSTOMER_360.variables } };
  const minimum = minimumFor(CUSTOMER_360.variables.first, LATENCY_MS, config);
  const { supportMaxConcurrency, ordersMaxConcurrency } = minimum.limits;
  const withVariant = VARIANT_SUPPORT_LIMIT > supportMaxConcurrency;
  const variantFloor = floorWithinLimits(minimum.calls, LATENCY_MS, { ...minimum.limits, supportMaxConcurrency: VARIANT_SUPPORT_LIMIT });
  const descriptions: Record<string, string> = {
    virtualize: `the gateway as configured (batched lookups; at most ${supportMaxConcurrency} connections to the support desk, ${ordersMaxConcurrency} to the order system)`,
    naive: 'hand-written graphql-yoga resolvers, one call per customer per source, memoized per customer, keep-alive with no connection limit',
    [VARIANT]: `virtualize with only the support desk's maxConcurrency raised from ${supportMaxConcurrency} to ${VARIANT_SUPPORT_LIMIT} (floor within its limits: ${variantFloor} ms)`,
  };

  const children: Child<unknown>[] = [];
  const clients: GraphQLClient[] = [];
  let control: SandboxControl | undefined;
  try {
    const sandbox = await startChild(
      'sandboxes',
      [CLI, 'sandbox', '--sandbox-ports', '0,0,0', '--latency', String(LATENCY_MS)],
      parseSandboxUrls,
    );
    children.push(sandbox);
    const sandboxes = sandbox.announced;
    control = new SandboxControl(sandboxes);
    await control.setLatency(LATENCY_MS);

    const specs: GatewaySpec[] = [
      { name: 'virtualize', args: gatewayArgs('virtualize', sandboxes) },
      { name: 'naive', args: gatewayArgs('naive', sandboxes) },
      ...(withVariant
        ? [{ name: VARIANT, args: gatewayArgs('virtualize', sandboxes, ['--support-limit', String(VARIANT_SUPPORT_LIMIT), '--name', VARIANT]) }]
        : []),
    ];
    const started = await Promise.allSettled(specs.map((spec) => startChild(spec.name, spec.args, parseGatewayAnnouncement, UNTRACED_ENV)));
    for (const result of started) if (result.status === 'fulfilled') children.push(result.value);
    const failed = started.find((result) => result.status === 'rejected');
    if (failed) throw failed.reason;
    const measured = started.map((result, i) => {
      const { announced } = (result as PromiseFulfilledResult<Child<{ name: string; url: string }>>).value;
      if (announced.name !== specs[i]!.name) throw new Error(`gateway ${specs[i]!.name} announced itself as ${announced.name}`);
      const client = new GraphQLClient(announced.url);
      clients.push(client);
      return { gateway: announced, client };
    });

    // An honest comparison needs equal answers.
    const answers = await Promise.all(measured.map(({ client }) => client.query(operation.query, operation.variables)));
    for (let i = 1; i < measured.length; i += 1) {
      const difference = firstDifference(answers[0]!.data, answers[i]!.data);
      if (difference) {
        throw new Error(`${measured[0]!.gateway.name} and ${measured[i]!.gateway.name} answer differently, so comparing them would be meaningless: ${difference}`);
      }
    }

    const nodes = (answers[0]!.data as { customers?: { nodes?: unknown[] } } | null)?.customers?.nodes;
    if (nodes?.length !== CUSTOMER_360.variables.first) {
      throw new Error(`expected a page of ${CUSTOMER_360.variables.first} customers, got ${nodes?.length ?? 'none'}`);
    }

    // Phase by phase across the gateways, so that a burst of machine noise does not land on one only.
    const sequential = new Map<string, SequentialResult>();
    const concurrent = new Map<string, ConcurrentResult>();
    for (const { gateway, client } of measured) {
      sequential.set(gateway.name, await measureSequential(client, control, operation, { warmups: WARMUPS, requests: SEQUENTIAL_REQUESTS }));
    }
    for (const { gateway, client } of measured) {
      concurrent.set(gateway.name, await measureConcurrent(client, control, operation, { clients: CLIENTS, requests: CONCURRENT_REQUESTS }));
    }

    // Tracing off against tracing on: the virtualize gateway measured above, and a copy that traces.
    const receiver = await startChild('otlp-receiver', [OTLP_RECEIVER], parseReceiverAnnouncement);
    children.push(receiver);
    const traced = await startChild(TRACED, gatewayArgs('virtualize', sandboxes, ['--name', TRACED]), parseGatewayAnnouncement, tracedEnv(receiver.announced.url));
    children.push(traced);
    const tracedClient = new GraphQLClient(traced.announced.url);
    clients.push(tracedClient);
    const tracedAnswer = await tracedClient.query(operation.query, operation.variables);
    const tracedDifference = firstDifference(answers[0]!.data, tracedAnswer.data);
    if (tracedDifference) throw new Error(`${TRACED} answers differently from virtualize: ${tracedDifference}`);
    await fetch(`${receiver.announced.url}/reset`, { method: 'POST' });
    const untraced = measured.findIndex(({ gateway }) => gateway.name === 'virtualize');
    const tracing = await measureTracingOverhead({
      off: { client: measured[untraced]!.client, pid: (started[untraced] as PromiseFulfilledResult<Child<unknown>>).value.pid },
      on: { client: tracedClient, pid: traced.pid },
      control,
      operation,
      rounds: TRACING_ROUNDS,
      warmups: TRACING_WARMUPS,
      clients: CLIENTS,
      concurrentRequests: TRACING_CONCURRENT_REQUESTS,
      sequentialRequests: TRACING_SEQUENTIAL_REQUESTS,
      exporter: TRACING_EXPORTER,
      flushAndCount: async () => {
        await traced.stop();
        return receiverStats(receiver.announced.url);
      },
    });

    // The guard's own overhead, in this process on a real answer, and a whole request with the
    // sources answering at once to set it against.
    const overhead = await measureGuardOverhead(config, operation, answers[0]!.data as Record<string, unknown>);
    await control.setLatency(0);
    const hot = await measureSequential(measured[0]!.client, control, operation, { warmups: WARMUPS, requests: SEQUENTIAL_REQUESTS });
    // Authentication and authorization on against off, at the same zero latency: the gateway's own work.
    const auth = await runAuthPhase(sandboxes, config, { rounds: AUTH_ROUNDS, coldRequests: AUTH_COLD_REQUESTS, hotRequests: AUTH_HOT_REQUESTS });

    const virtualizeP50 = sequential.get('virtualize')!.latencyMs.p50;
    const perRequestMs = overhead.microseconds.perRequest / 1000;
    const guard: GuardResult = {
      ...overhead,
      zeroLatencyP50Ms: hot.latencyMs.p50,
      shareOfRequest: { atLatency: Math.round((perRequestMs / virtualizeP50) * 1e5) / 1e5, atZeroLatency: Math.round((perRequestMs / hot.latencyMs.p50) * 1e5) / 1e5 },
    };

    // The hostile catalogue, with the sources answering at once: a gateway in this process, so
    // that its event loop is the one measured (bench/hostile.ts).
    const hostileGateway = await startVirtualize(sandboxes, { name: 'virtualize, hostile catalogue' });
    const hostile = await measureHostile(hostileGateway.url).finally(() => hostileGateway.close());
    const upstreamFlood = await measureUpstreamFlood({ orders: sandboxes.orders, support: sandboxes.support });

    const results: GatewayResult[] = measured.map(({ gateway }) => ({
      name: gateway.name,
      description: descriptions[gateway.name] ?? gateway.name,
      sequential: sequential.get(gateway.name)!,
      concurrent: concurrent.get(gateway.name)!,
    }));

    // The soak and the dashboard run at the benchmark's latency again (the guard phase above set it to 0).
    await control.setLatency(LATENCY_MS);
    const virtualize = measured.find(({ gateway }) => gateway.name === 'virtualize')!;

    // Dashboards: the same Zipf sequence of customer 360s, caches off (the gateway above) and on,
    // from a load generator in a process of its own.
    const cached = await startChild(CACHED, gatewayArgs('virtualize', sandboxes, ['--name', CACHED, '--cache']), parseGatewayAnnouncement, UNTRACED_ENV);
    children.push(cached);
    const load = await startLoadGenerator();
    children.push(load);
    const dashboard = await measureDashboard(
      {
        cold: { url: virtualize.gateway.url, pid: (started[untraced] as PromiseFulfilledResult<Child<unknown>>).value.pid },
        hot: { url: cached.announced.url, pid: cached.pid },
      },
      load,
      control,
      DASHBOARD,
    );
    await load.stop();

    const soak = SOAK ? await runSoak(virtualize.gateway.url, control, operation, SOAK_OPTIONS) : undefined;

    const report: BenchResults = {
      operation: { name: CUSTOMER_360.name, variables: operation.variables, query: operation.query },
      latencyPerSourceCallMs: LATENCY_MS,
      environment: { node: process.version, platform: `${process.platform}-${process.arch}`, cpus: cpus().length, date: new Date().toISOString(), processes: PROCESSES },
      minimum,
      gateways: results,
      ratios: ratios(results.find((r) => r.name === 'naive')!, results.find((r) => r.name === 'virtualize')!),
      guard,
      ...(soak ? { soak } : {}),
      tracing,
      auth,
      dashboard,
      hostile,
      upstreamFlood,
    };
    console.log(formatResults(report));
    console.log(`\n${formatHostile(hostile)}`);
    console.log(`\n${formatUpstreamFlood(upstreamFlood)}`);
    if (!withVariant) console.log(`(no "${VARIANT}" row: the configured support limit, ${supportMaxConcurrency}, is already at least ${VARIANT_SUPPORT_LIMIT})`);
    console.log(`\n${formatAuthOverhead(auth)}`);
    console.log(`\n${formatDashboard(dashboard)}`);
    console.log(soak ? `\n${formatSoak(soak)}` : '\n(soak skipped: BENCH_SOAK=0)');
    mkdirSync(join(PROJECT_ROOT, 'bench', 'results'), { recursive: true });
    writeFileSync(RESULTS_FILE, `${JSON.stringify(report, null, 2)}\n`);
    console.log(`\nresults written to ${join('bench', 'results', 'latest.json')}`);
    if (dashboardFailures(dashboard).length > 0) {
      console.error('bench: the dashboard phase had failed requests (see FAILED above): its figures do not stand');
      process.exitCode = 1;
    }
  } finally {
    await Promise.allSettled(clients.map((c) => c.close()));
    await control?.close().catch(() => undefined);
    await stopGatewaysThenSandboxes(children);
    clearTimeout(watchdog);
  }
}

runMain(main);
