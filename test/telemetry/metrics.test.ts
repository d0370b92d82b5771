/**
 * GET /metrics against the sandboxes' own counts: every upstream call they served is counted once,
 * by source, route template and status; the metrics the contract lists are there from the first
 * scrape (cache and cost ones included, before anything feeds them); every name starts with
 * `virtualize_`, the process's own metrics included; the query cost is the one the guard reports.
 */
import baseConfig from '../../virtualization.config';
import { METRIC } from '../../src/telemetry/attributes';
import { startHarness, type Harness } from '../support/harness';

/** Base paths of the sandbox systems, as the harness points the config at them. */
const BASE_PATHS = { crm: '/services/data/v58.0', orders: '/api', support: '/api/v2' } as const;
const QUERY = baseConfig.examples![0]!.query;

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function parse(text: string): { help: Set<string>; samples: Sample[] } {
  const help = new Set<string>();
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('# HELP ')) help.add(line.split(' ')[2]!);
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not a Prometheus sample: ${line}`);
    const labels = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1]!, m[2]!]));
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return { help, samples };
}

let h: Harness;
let metrics: { help: Set<string>; samples: Sample[] };
let contentType: string | null;
const actualCosts: number[] = [];

beforeAll(async () => {
  h = await startHarness();
  h.resetUpstream();
  for (const first of [20, 50]) {
    const response = await h.query(QUERY, { first });
    expect(response.errors).toBeUndefined();
    actualCosts.push((response.extensions!.cost as { actualQueryCost: number }).actualQueryCost);
  }
  expect((await h.query('{ customers(first: 1) { nope } }')).errors).toBeDefined();
  const response = await fetch(`${h.server.url}/metrics`);
  expect(response.status).toBe(200);
  contentType = response.headers.get('content-type');
  metrics = parse(await response.text());
});
afterAll(() => h?.close());

const samplesOf = (name: string) => metrics.samples.filter((sample) => sample.name === name);

describe('GET /metrics', () => {
  it('is Prometheus text, every name under virtualize_, with the process metrics', () => {
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    expect([...metrics.help].filter((name) => !name.startsWith(METRIC.prefix))).toEqual([]);
    expect(metrics.samples.filter((sample) => !sample.name.startsWith(METRIC.prefix))).toEqual([]);
    expect(metrics.help).toContain('virtualize_process_cpu_seconds_total');
    expect(metrics.help).toContain('virtualize_process_resident_memory_bytes');
    expect(metrics.help).toContain('virtualize_nodejs_eventloop_lag_seconds');
  });

  it('lists every metric of the contract, the cache ones included before anything feeds them', () => {
    for (const name of [METRIC.upstreamRequests, METRIC.upstreamRequestDuration, METRIC.cacheRequests, METRIC.cacheTierErrors, METRIC.queryCost, METRIC.breakerState, METRIC.operations, METRIC.operationDuration]) {
      expect(metrics.help).toContain(name);
    }
    expect(samplesOf(METRIC.cacheRequests)).toEqual([]);
    expect(samplesOf(METRIC.cacheTierErrors)).toEqual([]);
  });

  it('records the actual cost the query guard reports for each operation that ran', () => {
    expect(samplesOf(`${METRIC.queryCost}_count`)).toEqual([{ name: `${METRIC.queryCost}_count`, labels: {}, value: 2 }]);
    expect(samplesOf(`${METRIC.queryCost}_sum`)[0]!.value).toBe(actualCosts.reduce((a, b) => a + b, 0));
  });

  it('counts upstream calls exactly as the sources counted them, by route and status', () => {
    const counted = h.upstream();
    const requests = samplesOf(METRIC.upstreamRequests);
    expect(requests.every((sample) => sample.labels.status === '200')).toBe(true);
    for (const source of ['crm', 'orders', 'support'] as const) {
      const byRoute: Record<string, number> = {};
      for (const sample of requests.filter((s) => s.labels.source === source)) {
        const [method, path] = sample.labels.route!.split(' ');
        byRoute[`${method} ${BASE_PATHS[source]}${path}`] = sample.value;
      }
      expect(byRoute).toEqual(counted[source]);
    }
    // Each call was timed once too.
    for (const sample of requests) {
      const timed = samplesOf(`${METRIC.upstreamRequestDuration}_count`).find((s) => s.labels.source === sample.labels.source && s.labels.route === sample.labels.route);
      expect(timed?.value).toBe(sample.value);
    }
  });

  it('counts and times operations by name and outcome, and shows each source breaker closed', () => {
    expect(samplesOf(METRIC.operations)).toEqual(
      expect.arrayContaining([
        { name: METRIC.operations, labels: { operation: 'Customer360', type: 'query', outcome: 'ok' }, value: 2 },
        { name: METRIC.operations, labels: { operation: 'anonymous', type: 'unknown', outcome: 'error' }, value: 1 },
      ]),
    );
    expect(samplesOf(`${METRIC.operationDuration}_count`)).toContainEqual({ name: `${METRIC.operationDuration}_count`, labels: { operation: 'Customer360', type: 'query' }, value: 2 });
    expect(samplesOf(METRIC.breakerState).sort((a, b) => a.labels.source!.localeCompare(b.labels.source!))).toEqual(
      ['crm', 'orders', 'support'].map((source) => ({ name: METRIC.breakerState, labels: { source }, value: 0 })),
    );
  });
});
