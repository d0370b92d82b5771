/**
 * `npm run bench`: the customer 360 over a page of 50 customers, with every source call delayed
 * 25 ms, through virtualize and through a naive per-item gateway in the same run, against the
 * minimum number of upstream calls and the latency floor. Loopback only; every server is closed;
 * a watchdog ends the run if it ever takes longer than its budget.
 */
import { isDeepStrictEqual } from 'node:util';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { startSandboxes, type Sandboxes } from '../sources/sandbox';
import baseConfig from '../virtualization.config';
import { validateConfig } from '../src/config/validate';
import { CUSTOMER_360 } from './customer360';
import { GraphQLClient } from './graphql-client';
import { measureConcurrent, measureSequential, type ConcurrentResult, type SequentialResult } from './measure';
import { floorWithinLimits, minimumFor } from './minimum';
import { startNaive } from './naive-gateway';
import { formatResults, ratios, type BenchResults, type GatewayResult } from './report';
import { PROJECT_ROOT, startVirtualize, type RunningGateway } from './virtualize-gateway';

const LATENCY_MS = 25;
const WARMUPS = 3;
const SEQUENTIAL_REQUESTS = 30;
const CLIENTS = 8;
const CONCURRENT_REQUESTS = 80;
/** The whole run, build excluded, must end well inside two minutes. */
const BUDGET_MS = 100_000;
const RESULTS_FILE = join(PROJECT_ROOT, 'bench', 'results', 'latest.json');

/** A variant of virtualize whose only change is a higher connection limit on the support desk. */
const VARIANT_SUPPORT_LIMIT = 64;
const VARIANT = `virtualize, support limit ${VARIANT_SUPPORT_LIMIT}`;

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

async function main(): Promise<void> {
  const watchdog = setTimeout(() => {
    console.error(`bench: still running after ${BUDGET_MS / 1000} s; giving up`);
    process.exit(1);
  }, BUDGET_MS);
  watchdog.unref();

  const config = validateConfig(baseConfig);
  const operation = { query: CUSTOMER_360.query, variables: { ...CUSTOMER_360.variables } };
  const minimum = minimumFor(CUSTOMER_360.variables.first, LATENCY_MS, config);
  const variantFloor = floorWithinLimits(minimum.calls, LATENCY_MS, { ...minimum.limits, supportMaxConcurrency: VARIANT_SUPPORT_LIMIT });
  const descriptions: Record<string, string> = {
    virtualize: `the gateway as configured (batched lookups; at most ${minimum.limits.supportMaxConcurrency} connections to the support desk, ${minimum.limits.ordersMaxConcurrency} to the order system)`,
    naive: 'hand-written graphql-yoga resolvers, one call per customer per source, memoized per customer, keep-alive with no connection limit',
    [VARIANT]: `virtualize with only the support desk's maxConcurrency raised from ${minimum.limits.supportMaxConcurrency} to ${VARIANT_SUPPORT_LIMIT} (floor within its limits: ${variantFloor} ms)`,
  };

  let sandboxes: Sandboxes | undefined;
  const gateways: RunningGateway[] = [];
  const clients: GraphQLClient[] = [];
  try {
    sandboxes = await startSandboxes({ latencyMs: LATENCY_MS, ports: { crm: 0, orders: 0, support: 0 }, host: '127.0.0.1' });
    gateways.push(
      await startVirtualize(sandboxes),
      await startNaive(sandboxes),
      await startVirtualize(sandboxes, { name: VARIANT, maxConcurrency: { support: VARIANT_SUPPORT_LIMIT } }),
    );
    const measured = gateways.map((gateway) => {
      const client = new GraphQLClient(gateway.url);
      clients.push(client);
      return { gateway, client };
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
      sequential.set(gateway.name, await measureSequential(client, sandboxes, operation, { warmups: WARMUPS, requests: SEQUENTIAL_REQUESTS }));
    }
    for (const { gateway, client } of measured) {
      concurrent.set(gateway.name, await measureConcurrent(client, sandboxes, operation, { clients: CLIENTS, requests: CONCURRENT_REQUESTS }));
    }
    const results: GatewayResult[] = measured.map(({ gateway }) => ({
      name: gateway.name,
      description: descriptions[gateway.name] ?? gateway.name,
      sequential: sequential.get(gateway.name)!,
      concurrent: concurrent.get(gateway.name)!,
    }));

    const report: BenchResults = {
      operation: { name: CUSTOMER_360.name, variables: operation.variables, query: operation.query },
      latencyPerSourceCallMs: LATENCY_MS,
      environment: { node: process.version, platform: `${process.platform}-${process.arch}`, cpus: cpus().length, date: new Date().toISOString() },
      minimum,
      gateways: results,
      ratios: ratios(results.find((r) => r.name === 'naive')!, results.find((r) => r.name === 'virtualize')!),
    };
    console.log(formatResults(report));
    mkdirSync(join(PROJECT_ROOT, 'bench', 'results'), { recursive: true });
    writeFileSync(RESULTS_FILE, `${JSON.stringify(report, null, 2)}\n`);
    console.log(`\nresults written to ${join('bench', 'results', 'latest.json')}`);
  } finally {
    await Promise.allSettled(clients.map((c) => c.close()));
    await Promise.allSettled(gateways.map((g) => g.close()));
    await sandboxes?.close();
    clearTimeout(watchdog);
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exitCode = 1;
});
