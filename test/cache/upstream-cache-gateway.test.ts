/**
 * The upstream-call cache in the gateway: a customer 360 asked again is answered with no call to
 * any source (counted at the sandboxes), explain shows the hits and their age, /metrics counts
 * hits and misses of the `upstream` tier, and 100 concurrent cold requests share their calls.
 */
import { EXPLAIN_HEADER, type FanoutEntry } from '../../src/server/explain';
import { data } from '../integration/ground-truth';
import { startHarness, type Harness } from '../support/harness';

const CUSTOMER_360 = `query($id: ID!) { customer(id: $id) {
  id name email orders(first: 3) { number total status } orderSummary { count totalSpent } tickets { subject status }
} }`;

let h: Harness;
beforeAll(async () => {
  h = await startHarness({
    cache: true,
    configure: (config) => ({ ...config, cache: { upstream: { ttlMs: 60_000 }, responses: { enabled: false } } }),
  });
});
afterAll(() => h?.close());

async function cacheCounts(): Promise<Record<string, number>> {
  const text = await (await fetch(`${h.server.url}/metrics`)).text();
  const counts: Record<string, number> = {};
  for (const match of text.matchAll(/^virtualize_cache_requests_total\{tier="upstream",result="(\w+)"\} (\d+)/gm)) counts[match[1]!] = Number(match[2]);
  return counts;
}

describe('upstream-call cache in the gateway', () => {
  const id = data.crm.contacts[3]!.Id;

  it('answers a repeated customer 360 with zero upstream calls, and explain shows the hits', async () => {
    h.gateway.upstreamCache.clear();
    h.resetUpstream();
    const cold = await h.query(CUSTOMER_360, { id }, { [EXPLAIN_HEADER]: '1' });
    expect(cold.errors).toBeUndefined();
    const coldCalls = h.upstream().total;
    expect(coldCalls).toBeGreaterThan(1);
    expect((cold.extensions!.fanout as FanoutEntry[]).every((call) => !call.cacheHit && call.ageMs === null)).toBe(true);

    h.resetUpstream();
    const before = await cacheCounts();
    const hot = await h.query(CUSTOMER_360, { id }, { [EXPLAIN_HEADER]: '1' });
    expect(hot.data).toEqual(cold.data);
    expect(h.upstream().total).toBe(0);
    const fanout = hot.extensions!.fanout as FanoutEntry[];
    expect(fanout.length).toBeGreaterThan(0);
    for (const call of fanout) {
      expect(call).toMatchObject({ cacheHit: true, attempts: 0 });
      expect(call.ageMs).toBeGreaterThanOrEqual(0);
    }
    const provenance = hot.extensions!.provenance as Array<{ cachedAgeMs: number | null }>;
    expect(provenance.length).toBeGreaterThan(0);
    for (const entry of provenance) expect(entry.cachedAgeMs).toEqual(expect.any(Number));
    for (const entry of cold.extensions!.provenance as Array<{ cachedAgeMs: number | null }>) expect(entry.cachedAgeMs).toBeNull();
    const after = await cacheCounts();
    expect((after.hit ?? 0) - (before.hit ?? 0)).toBeGreaterThanOrEqual(fanout.length);
    expect((after.miss ?? 0) - (before.miss ?? 0)).toBe(0);
  });

  it('100 concurrent identical cold requests make the calls of one', async () => {
    const other = data.crm.contacts[7]!.Id;
    h.gateway.upstreamCache.clear();
    h.resetUpstream();
    await h.query(CUSTOMER_360, { id: other });
    const one = h.upstream();
    h.gateway.upstreamCache.clear();
    h.resetUpstream();
    const answers = await Promise.all(Array.from({ length: 100 }, () => h.query(CUSTOMER_360, { id: other })));
    for (const answer of answers) expect(answer.errors).toBeUndefined();
    expect(new Set(answers.map((answer) => JSON.stringify(answer.data))).size).toBe(1);
    const hundred = h.upstream();
    expect(hundred.total).toBe(one.total);
    expect(hundred.crm).toEqual(one.crm);
    expect(hundred.orders).toEqual(one.orders);
    expect(hundred.support).toEqual(one.support);
  });
});
