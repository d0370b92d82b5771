/**
 * A source registered at run time is protected by its own definition: billing declares
 * `access.requiresScopes: [["billing:read"]]`, so its root fields, its type and the joins onto it
 * (Customer.invoices, Customer.openBalance) need that scope, and a caller without it is refused
 * before billing is called.
 */
import { billingDocument } from '../support/billing';
import { data } from '../integration/ground-truth';
import { DEMO_LIMITED_KEY } from '../support/harness';
import { CHANGE, startRegistryHarness, type RegistryHarness } from '../support/registry-harness';

const LIMITED = { 'x-api-key': DEMO_LIMITED_KEY };
const customerId = data.crm.contacts[0]!.Id;

let h: RegistryHarness;
beforeAll(async () => {
  h = await startRegistryHarness();
  const registered = await h.admin<{ registerSource: { ok: boolean } }>(`mutation($d: JSON!) { registerSource(definition: $d, sample: false) { ${CHANGE} } }`, { d: billingDocument() });
  expect(registered.data?.registerSource).toMatchObject({ ok: true });
});
afterAll(() => h?.close());

describe('a registered source that requires a scope', () => {
  it('serves billing:read holders and refuses others with no call to billing', async () => {
    const list = '{ invoices(first: 2) { nodes { id } } }';
    const allowed = await h.graphql<{ invoices: { nodes: Array<{ id: string }> } }>(list);
    expect(allowed.errors).toBeUndefined();
    expect(allowed.data!.invoices.nodes).toHaveLength(2);

    const before = h.billing.stats().total;
    for (const query of [list, `{ customer(id: "${customerId}") { name openBalance } }`, `{ customer(id: "${customerId}") { invoices(first: 1) { id } } }`]) {
      const refused = await h.graphql(query, undefined, LIMITED);
      expect(refused.status).toBe(403);
      expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN' });
      expect(JSON.stringify(refused.errors)).toContain('billing:read');
    }
    expect(h.billing.stats().total).toBe(before);
  });
});
