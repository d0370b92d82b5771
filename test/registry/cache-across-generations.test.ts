/**
 * The upstream-call cache outlives a schema generation: after billing is registered (a swap),
 * what the CRM, the order system and the support desk answered before is still served from
 * memory, and /metrics counts the new generation's hits.
 */
import { billingDocument } from '../support/billing';
import { data } from '../integration/ground-truth';
import { CHANGE, startRegistryHarness, type RegistryHarness } from '../support/registry-harness';

const CUSTOMER_360 = `query($id: ID!) { customer(id: $id) { id name orderSummary { count } tickets { subject } } }`;
const customerId = data.crm.contacts[3]!.Id;

let h: RegistryHarness;
beforeAll(async () => {
  h = await startRegistryHarness({ cache: { upstream: { ttlMs: 600_000 }, responses: { enabled: false } } });
});
afterAll(() => h?.close());

const callsAtSources = () => h.sandboxes.crm.stats().total + h.sandboxes.orders.stats().total + h.sandboxes.support.stats().total;

async function upstreamHits(): Promise<number> {
  const text = await (await fetch(`${h.server.url}/metrics`)).text();
  const line = /^virtualize_cache_requests_total\{[^}]*tier="upstream"[^}]*result="hit"[^}]*\} (\d+)/m.exec(text) ?? /^virtualize_cache_requests_total\{[^}]*result="hit"[^}]*tier="upstream"[^}]*\} (\d+)/m.exec(text);
  return line ? Number(line[1]) : 0;
}

describe('cache across schema generations', () => {
  it('serves what earlier generations fetched, and counts the hits in /metrics', async () => {
    const first = await h.graphql(CUSTOMER_360, { id: customerId });
    expect(first.errors).toBeUndefined();
    expect(first.extensions?.schemaVersion).toBe(0);

    const registered = await h.admin<{ registerSource: { ok: boolean; schemaVersion: number } }>(`mutation($d: JSON!) { registerSource(definition: $d, sample: false) { ${CHANGE} } }`, { d: billingDocument() });
    expect(registered.data?.registerSource).toMatchObject({ ok: true, schemaVersion: 1 });

    const callsBefore = callsAtSources();
    const hitsBefore = await upstreamHits();
    const again = await h.graphql(CUSTOMER_360, { id: customerId });
    expect(again.extensions?.schemaVersion).toBe(1);
    expect(again.data).toEqual(first.data);
    expect(callsAtSources()).toBe(callsBefore);
    // The customer, their orders and their tickets: one hit each at least.
    expect((await upstreamHits()) - hitsBefore).toBeGreaterThanOrEqual(3);
  });
});
