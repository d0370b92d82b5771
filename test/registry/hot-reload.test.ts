/**
 * Hot reload: the billing system is registered while customer 360 requests keep coming, and not
 * one of them fails; a request in flight at a swap finishes on the schema it started with.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { billingDocument } from '../support/billing';
import { PROJECT_ROOT } from '../support/harness';
import { CHANGE, startRegistryHarness, type RegistryHarness } from '../support/registry-harness';

const CUSTOMER_360 = `query($first: Int!) { customers(first: $first) { nodes { id name orderSummary { count } orders(first: 3) { number } openTicketCount tickets { subject } } } }`;

let h: RegistryHarness;
beforeAll(async () => {
  h = await startRegistryHarness({ latencyMs: 5 });
});
afterAll(() => h?.close());

describe('hot reload', () => {
  it('drops no request while the billing system and its crosswalk go live under a steady load of customer 360s', async () => {
    const results: Array<{ client: number; status: number; errors: number; version: unknown }> = [];
    // Waiting on the answers themselves: `when(done)` resolves at the first answer after which `done` holds.
    const waiting: Array<{ done: () => boolean; resolve: () => void }> = [];
    const when = (done: () => boolean) => (done() ? Promise.resolve() : new Promise<void>((resolve) => waiting.push({ done, resolve })));
    let running = true;
    const client = async (_: unknown, index: number) => {
      while (running) {
        const answer = await h.graphql(CUSTOMER_360, { first: 5 });
        results.push({ client: index, status: answer.status, errors: answer.errors?.length ?? 0, version: answer.extensions?.schemaVersion });
        for (const waiter of waiting.filter((w) => w.done())) {
          waiting.splice(waiting.indexOf(waiter), 1);
          waiter.resolve();
        }
      }
    };
    const clients = Array.from({ length: 8 }, client);
    // The load runs before the change: a few answers from every client on version 0.
    await when(() => results.length >= 16);

    // With its dry run: sample calls to billing and to the CRM while the load runs.
    const registered = await h.admin<{ registerSource: { ok: boolean; schemaVersion: number } }>(`mutation($d: JSON!) { registerSource(definition: $d) { ${CHANGE} } }`, { d: billingDocument() });
    expect(registered.data?.registerSource).toMatchObject({ ok: true, schemaVersion: 1 });
    const imported = await h.upload('customerInvoices', readFileSync(join(PROJECT_ROOT, 'sources/billing/crosswalk.csv'), 'utf8'));
    expect(imported.lines.at(-1)).toMatchObject({ type: 'result', applied: true });
    // And after it: once every client has had an answer on version 1, no answer on version 0 can
    // come any more; then 8 answers more.
    const onVersion1 = () => new Set(results.filter((r) => r.version === 1).map((r) => r.client)).size === 8;
    await when(onVersion1);
    const settled = results.length;
    await when(() => results.length >= settled + 8);
    running = false;
    await Promise.all(clients);

    expect(results.filter((r) => r.status !== 200 || r.errors > 0)).toEqual([]);
    const versions = results.map((r) => r.version);
    expect(new Set(versions)).toEqual(new Set([0, 1]));
    expect(versions.lastIndexOf(0)).toBeLessThan(versions.length - 8);
    expect(results.length).toBeGreaterThan(20);

    const { data, extensions } = await h.graphql<{ customers: { nodes: Array<{ invoices: unknown[] }> } }>('{ customers(first: 20) { nodes { invoices { id } } } }');
    expect(extensions?.schemaVersion).toBe(1);
    expect(data!.customers.nodes.some((node) => node.invoices.length > 0)).toBe(true);
  });

  it("answers the README's walkthrough query once billing is live", async () => {
    const blocks = [...readFileSync(join(PROJECT_ROOT, 'README.md'), 'utf8').matchAll(/```graphql\n([\s\S]*?)```/g)].map((match) => match[1]!);
    const walkthrough = blocks.filter((block) => block.startsWith('# After registering billing'));
    expect(walkthrough).toHaveLength(1);
    const answer = await h.graphql<{ customer: { name: string; invoices: unknown[] }; invoices: { totalCount: number } }>(walkthrough[0]!);
    expect(answer.errors).toBeUndefined();
    expect(answer.data!.customer.invoices).toHaveLength(3);
    expect(answer.data!.invoices.totalCount).toBeGreaterThan(0);
  });

  it('finishes a request in flight at a swap on the schema it started with, then retires that schema', async () => {
    h.sandboxes.support.setLatency(1_500);
    try {
      // In flight once the support system has its call (it answers 1.5 s later).
      const arrived = h.sandboxes.support.nextRequest();
      const inFlight = h.graphql<{ customers: { nodes: Array<{ tickets: unknown[] | null }> } }>(CUSTOMER_360, { first: 3 });
      await arrived;
      const document = billingDocument();
      document.sources.billing!.description = 'Billing, described anew.';
      delete document.mappings;
      const updated = await h.admin<{ updateSource: { ok: boolean; schemaVersion: number } }>(`mutation($d: JSON!) { updateSource(definition: $d, sample: false) { ${CHANGE} } }`, { d: document });
      expect(updated.data?.updateSource).toMatchObject({ ok: true, schemaVersion: 2 });
      expect(h.registry.gateway.draining).toBe(1);
      expect((await h.graphql('{ invoices(first: 1) { totalCount } }')).extensions?.schemaVersion).toBe(2);

      const answer = await inFlight;
      expect(answer.errors).toBeUndefined();
      expect(answer.extensions?.schemaVersion).toBe(1);
      expect(answer.data!.customers.nodes.every((node) => Array.isArray(node.tickets))).toBe(true);
      await h.registry.gateway.retired();
      expect(h.registry.gateway.draining).toBe(0);
    } finally {
      h.sandboxes.support.setLatency(5);
    }
  });
});
