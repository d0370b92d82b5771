/**
 * The hostile catalogue against one gateway in this process, case by case: how long the event
 * loop is held (perf_hooks' monitorEventLoopDelay while the case runs) and how long `/healthz`
 * takes meanwhile, asked again and again beside it. What the guard refuses should cost its
 * length to refuse; what it accepts, what it asks for. Figures only: the tests
 * (test/integration/fragment-fanout.test.ts, test/server/request-bounds.test.ts) say what is
 * refused and what is answered.
 *
 * `node dist/bench/hostile.js` runs this phase alone, with sandboxes in this process too;
 * `npm run bench` runs it against the benchmark's sandboxes, which then answer at once.
 */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { startSandboxes } from '../sources/sandbox';
import { runMain } from './children';
import type { SandboxUrls } from './project';
import { startVirtualize } from './virtualize-gateway';

export interface HostileCase {
  name: string;
  /** What the gateway answered: the HTTP status and the first error code, or `ok`. */
  outcome: string;
  requests: number;
  /** Wall time per request, median. */
  requestP50Ms: number;
  /** The longest the event loop was held while the case ran, and its 99th percentile. */
  loopDelayMaxMs: number;
  loopDelayP99Ms: number;
  /** `/healthz` asked in a loop beside the case. */
  healthz: { n: number; p50Ms: number; maxMs: number };
}

export interface HostileResult {
  cases: HostileCase[];
  /** The same measures with nothing but `/healthz` running. */
  idle: { loopDelayMaxMs: number; healthzMaxMs: number };
}

const REQUESTS_PER_CASE = 10;
const WARMUPS = 5;
const CUSTOMER = '0035e0000003sMzAAI';

function fragments(levels: number, fan: number, leaf: string, wrap = false): string {
  const defined = [`fragment F1 on Customer { ${leaf} }`];
  for (let level = 2; level <= levels; level++) {
    const spreads = Array.from({ length: fan }, (_, i) => (wrap ? `${'... on Customer { '.repeat(i % 3)}...F${level - 1}${' }'.repeat(i % 3)}` : `...F${level - 1}`));
    defined.push(`fragment F${level} on Customer { ${spreads.join(' ')} }`);
  }
  return defined.join(' ');
}

/**
 * A request body whose document is new each time (a numbered comment, which no limit counts): an
 * attacker varies the text, so neither yoga's parse and validation caches nor the guard's price
 * and merge caches answer, and each request pays the first-sight cost measured here.
 */
const body =
  (query: string, variables?: unknown) =>
  (n: number): string =>
    JSON.stringify({ query: `${query}\n# ${n}`, variables });
const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

/** Each case is one request body; the guard's verdict on it is in the table's outcome column. */
const CATALOGUE: ReadonlyArray<{ name: string; body: (n: number) => string }> = [
  { name: 'fragment fan-out, 7 levels of 10 (615 bytes, 10^6 fields)', body: body(`{ customer(id: "${CUSTOMER}") { ...F7 } } ${fragments(7, 10, 'id name')}`) },
  { name: 'fragment fan-out, 20 levels of 10 (10^19 fields)', body: body(`{ customer(id: "${CUSTOMER}") { ...F20 } } ${fragments(20, 10, 'id')}`) },
  { name: 'fan-out just under expandedSelections, one customer', body: body(`{ customer(id: "${CUSTOMER}") { ...F4 } } ${fragments(4, 9, 'id name segment', true)}`) },
  { name: 'fan-out just under expandedSelections, 20 customers with orders', body: body(`{ customers(first: 20) { nodes { ...F5 } } } ${fragments(5, 5, 'id name orders(first: 2) { id total }', true)}`) },
  { name: 'the plain query the first of them amounts to', body: body(`{ customer(id: "${CUSTOMER}") { id name segment } }`) },
  { name: 'the plain query the second amounts to', body: body(`{ customers(first: 20) { nodes { id name orders(first: 2) { id total } } } }`) },
  { name: 'one join asked 200 times (field merging compares pairs)', body: body(`{ customer(id: "${CUSTOMER}") { ${'orders(first: 1) { id } '.repeat(200)} } }`) },
  { name: '10,000 nested brackets in an unused variable', body: body('{ __typename }', { unused: 'NESTED' }) },
  { name: 'alias bomb: 150 aliases of one root', body: body(`{ ${Array.from({ length: 150 }, (_, i) => `c${i}: customer(id: "${CUSTOMER}") { id }`).join(' ')} }`) },
  { name: 'token flood: one field 5,000 times', body: body(`{ customer(id: "${CUSTOMER}") { ${'name '.repeat(5_000)} } }`) },
  { name: 'circular joins 12 deep', body: body(`{ customer(id: "${CUSTOMER}") { ${'orders { customer { '.repeat(6)}name${' } }'.repeat(6)} } }`) },
];

/** The nested case is written by hand: JSON.stringify cannot write what it is about. */
function bodyOf(hostile: (typeof CATALOGUE)[number], n: number): string {
  return hostile.body(n).replace('"NESTED"', nested(10_000));
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

const round = (ms: number) => Math.round(ms * 10) / 10;

function stopSignal(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}

/** `/healthz` in a loop until `stop` resolves: each latency, one request at a time. */
async function healthLoop(url: string, stop: Promise<void>): Promise<number[]> {
  const latencies: number[] = [];
  let stopped = false;
  void stop.then(() => (stopped = true));
  while (!stopped) {
    const started = performance.now();
    const response = await fetch(`${url}/healthz`);
    await response.arrayBuffer();
    latencies.push(performance.now() - started);
  }
  return latencies;
}

async function outcomeOf(response: Response): Promise<string> {
  const text = await response.text();
  const parsed = JSON.parse(text) as { errors?: Array<{ extensions?: { code?: string } }> } | Array<{ errors?: Array<{ extensions?: { code?: string } }> }>;
  const first = (Array.isArray(parsed) ? parsed[0] : parsed)?.errors?.[0]?.extensions?.code;
  return `${response.status} ${first ?? 'ok'}`;
}

export async function measureHostile(graphqlUrl: string, requests = REQUESTS_PER_CASE): Promise<HostileResult> {
  const base = graphqlUrl.replace(/\/graphql$/, '');
  const headers = { 'content-type': 'application/json', accept: 'application/json', 'x-api-key': process.env.VIRTUALIZE_DEMO_KEY ?? 'vz_demo_sandbox_all_scopes' };
  const histogram = monitorEventLoopDelay({ resolution: 5 });

  const idleStop = stopSignal();
  histogram.enable();
  const idleLoop = healthLoop(base, idleStop.promise);
  await new Promise((resolve) => setTimeout(resolve, 500));
  idleStop.resolve();
  const idleLatencies = await idleLoop;
  histogram.disable();
  const idle = { loopDelayMaxMs: round(histogram.max / 1e6), healthzMaxMs: round(Math.max(...idleLatencies)) };

  const cases: HostileCase[] = [];
  for (const hostile of CATALOGUE) {
    // A few unmeasured requests first, so that the figures are of warm code, not of its compilation.
    let outcome = '';
    for (let i = 0; i < WARMUPS; i++) outcome = await outcomeOf(await fetch(graphqlUrl, { method: 'POST', headers, body: bodyOf(hostile, -1 - i) }));
    histogram.reset();
    histogram.enable();
    const stop = stopSignal();
    const health = healthLoop(base, stop.promise);
    const times: number[] = [];
    for (let i = 0; i < requests; i++) {
      const started = performance.now();
      outcome = await outcomeOf(await fetch(graphqlUrl, { method: 'POST', headers, body: bodyOf(hostile, i) }));
      times.push(performance.now() - started);
    }
    stop.resolve();
    const healthz = (await health).sort((a, b) => a - b);
    histogram.disable();
    times.sort((a, b) => a - b);
    cases.push({
      name: hostile.name,
      outcome,
      requests,
      requestP50Ms: round(percentile(times, 0.5)),
      loopDelayMaxMs: round(histogram.max / 1e6),
      loopDelayP99Ms: round(histogram.percentile(99) / 1e6),
      healthz: { n: healthz.length, p50Ms: round(percentile(healthz, 0.5)), maxMs: round(healthz.at(-1) ?? 0) },
    });
  }
  return { cases, idle };
}

export function formatHostile(result: HostileResult): string {
  const rows = [
    ['hostile case', 'answer', 'ms/request p50', 'loop delay max ms', 'loop p99 ms', '/healthz p50 ms', '/healthz max ms'],
    ...result.cases.map((c) => [c.name, c.outcome, String(c.requestP50Ms), String(c.loopDelayMaxMs), String(c.loopDelayP99Ms), String(c.healthz.p50Ms), String(c.healthz.maxMs)]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const lines = rows.map((row) => row.map((cell, i) => (i < 2 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  '));
  return [
    `hostile catalogue: ${result.cases[0]?.requests ?? 0} requests per case after ${WARMUPS} warm-ups, one at a time, each a document never seen (no cache answers), /healthz asked in a loop beside them; ` +
      'event-loop delay from monitorEventLoopDelay (5 ms resolution), gateway and client in one process',
    `idle (only /healthz): loop delay max ${result.idle.loopDelayMaxMs} ms, /healthz max ${result.idle.healthzMaxMs} ms`,
    '',
    ...lines,
  ].join('\n');
}

/** The phase alone: sandboxes and a gateway in this process. */
export async function runHostileAlone(): Promise<HostileResult> {
  const sandboxes = await startSandboxes({ latencyMs: 0, ports: { crm: 0, orders: 0, support: 0 } });
  try {
    const urls: SandboxUrls = { crm: sandboxes.crm.url, orders: sandboxes.orders.url, support: sandboxes.support.url };
    const gateway = await startVirtualize(urls);
    try {
      return await measureHostile(gateway.url);
    } finally {
      await gateway.close();
    }
  } finally {
    await sandboxes.close();
  }
}

if (require.main === module) {
  runMain(async () => {
    console.log(formatHostile(await runHostileAlone()));
  });
}
