/**
 * Upstream answers that would fill the gateway's memory: the CRM replaced by a source that answers
 * every call with 400 MB, six GraphQL requests at once that each call it, against the default
 * `limits.maxResponseBytes` (16 MiB). Measured in this process (gateway and flooding source both):
 * the resident set before, at its peak (sampled every 10 ms) and after, the event-loop delay and
 * `/healthz` beside the flood, and how much of each answer the source managed to write before the
 * gateway closed the connection. Figures only: test/registry/response-bound.test.ts says what is
 * refused.
 *
 * `node dist/bench/upstream-flood.js` runs this phase alone, with sandboxes in this process too.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { startSandboxes } from '../sources/sandbox';
import { runMain } from './children';
import type { SandboxUrls } from './project';
import { startVirtualize } from './virtualize-gateway';

const MB = 1_000_000;
const ANSWER_BYTES = 400 * MB;
const AT_ONCE = 6;
const CUSTOMERS = ['0035e0000003sMzAAI', '0035e0000008YwUAAU', '0035e0000000001AAA', '0035e0000000002AAA', '0035e0000000003AAA', '0035e0000000004AAA'];

export interface FloodResult {
  answers: number;
  answerBytes: number;
  /** What each request answered: the first error code, or `ok`. */
  outcomes: string[];
  /** Wall time until the last of the requests was answered. */
  elapsedMs: number;
  rssMB: { before: number; peak: number; after: number };
  /** Bytes the flooding source wrote per answer before the connection closed, the largest. */
  writtenMaxMB: number;
  loopDelayMaxMs: number;
  healthzMaxMs: number;
  /** The same two measures over half a second with nothing but `/healthz` running, for comparison. */
  idle: { loopDelayMaxMs: number; healthzMaxMs: number };
}

const round = (value: number) => Math.round(value * 10) / 10;

/** A source that answers every request with `ANSWER_BYTES` of one JSON string, written as fast as the gateway reads. */
async function startFlood(): Promise<{ origin: string; written: number[]; close(): Promise<void> }> {
  const chunk = Buffer.alloc(64 * 1024, 'x');
  const written: number[] = [];
  const server = createServer((req, res) => {
    const at = written.push(0) - 1;
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"records":"');
    const pump = () => {
      while (written[at]! < ANSWER_BYTES && !res.destroyed) {
        written[at]! += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      if (!res.destroyed) res.end('"}');
    };
    pump();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    written,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export async function measureUpstreamFlood(sandboxes: Omit<SandboxUrls, 'crm'>): Promise<FloodResult> {
  const flood = await startFlood();
  const gateway = await startVirtualize({ ...sandboxes, crm: flood.origin }, { name: 'virtualize, upstream flood' });
  const base = gateway.url.replace(/\/graphql$/, '');
  const headers = { 'content-type': 'application/json', accept: 'application/json', 'x-api-key': process.env.VIRTUALIZE_DEMO_KEY ?? 'vz_demo_sandbox_all_scopes' };
  try {
    // One request first that calls no flooded source: what a gateway's first request compiles is not the flood's.
    await (await fetch(gateway.url, { method: 'POST', headers, body: JSON.stringify({ query: '{ order(id: "500123") { number } }' }) })).arrayBuffer();
    const histogram = monitorEventLoopDelay({ resolution: 5 });
    const beside = (until: Promise<unknown>) => {
      const latencies: number[] = [];
      let running = true;
      void until.finally(() => (running = false));
      const loop = (async () => {
        while (running) {
          const started = performance.now();
          await (await fetch(`${base}/healthz`)).arrayBuffer();
          latencies.push(performance.now() - started);
        }
        return latencies;
      })();
      return loop;
    };
    histogram.enable();
    const idleHealthz = await beside(new Promise((resolve) => setTimeout(resolve, 500)));
    histogram.disable();
    const idle = { loopDelayMaxMs: round(histogram.max / 1e6), healthzMaxMs: round(Math.max(...idleHealthz)) };
    histogram.reset();

    const rss = () => process.memoryUsage().rss / MB;
    const before = rss();
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, rss())), 10);
    histogram.enable();
    const started = performance.now();
    const requests = Promise.all(
      CUSTOMERS.slice(0, AT_ONCE).map(async (id) => {
        const response = await fetch(gateway.url, { method: 'POST', headers, body: JSON.stringify({ query: `{ customer(id: "${id}") { name } }` }) });
        const answer = (await response.json()) as { errors?: Array<{ extensions?: { code?: string } }> };
        return answer.errors?.[0]?.extensions?.code ?? 'ok';
      }),
    );
    const healthz = await beside(requests);
    const outcomes = await requests;
    const elapsedMs = performance.now() - started;
    histogram.disable();
    clearInterval(sampler);
    return {
      answers: AT_ONCE,
      answerBytes: ANSWER_BYTES,
      outcomes,
      elapsedMs: round(elapsedMs),
      rssMB: { before: round(before), peak: round(peak), after: round(rss()) },
      writtenMaxMB: round(Math.max(...flood.written) / MB),
      loopDelayMaxMs: round(histogram.max / 1e6),
      healthzMaxMs: round(Math.max(...healthz)),
      idle,
    };
  } finally {
    await gateway.close();
    await flood.close();
  }
}

export function formatUpstreamFlood(result: FloodResult): string {
  return [
    `upstream flood: ${result.answers} requests at once, each calling a source that answers ${result.answerBytes / MB} MB, against limits.maxResponseBytes of 16 MiB`,
    `  answered in ${result.elapsedMs} ms: ${[...new Set(result.outcomes)].join(', ')}; the source wrote at most ${result.writtenMaxMB} MB of an answer before the connection closed`,
    `  RSS ${result.rssMB.before} MB before, ${result.rssMB.peak} MB at the peak, ${result.rssMB.after} MB after; event-loop delay max ${result.loopDelayMaxMs} ms, /healthz max ${result.healthzMaxMs} ms beside it`,
    `  idle (only /healthz, half a second): event-loop delay max ${result.idle.loopDelayMaxMs} ms, /healthz max ${result.idle.healthzMaxMs} ms`,
  ].join('\n');
}

/** The phase alone: sandboxes and a gateway in this process. */
export async function runUpstreamFloodAlone(): Promise<FloodResult> {
  const sandboxes = await startSandboxes({ latencyMs: 0, ports: { crm: 0, orders: 0, support: 0 } });
  try {
    return await measureUpstreamFlood({ orders: sandboxes.orders.url, support: sandboxes.support.url });
  } finally {
    await sandboxes.close();
  }
}

if (require.main === module) {
  runMain(async () => {
    console.log(formatUpstreamFlood(await runUpstreamFloodAlone()));
  });
}
