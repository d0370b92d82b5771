/**
 * Concurrent changes on two replicas sharing one PostgreSQL registry (DATABASE_URL): every change
 * either commits or is refused with the coded, retryable REGISTRY_CONFLICT, never an internal
 * error; those refused succeed when sent again; both replicas end on the same revision. A schema
 * of its own, dropped at the end.
 */
import { Pool } from 'pg';
import { startSandboxes } from '../../sources/sandbox';
import { startBilling, type BillingSandboxHandle } from '../../sources/billing/server';
import type { Sandboxes } from '../support/harness';
import { BILLING_KEY, startRegistryHarness, type RegistryHarness } from '../support/registry-harness';

const DATABASE_URL = process.env.DATABASE_URL;
if (!DATABASE_URL) console.warn('PostgreSQL concurrency tests skipped: set DATABASE_URL (CI sets postgres://postgres@127.0.0.1:5432/test) to run them.');
const describeWithPostgres = DATABASE_URL ? describe : describe.skip;
const SCHEMA = `vt_concurrent_${process.pid}_${Date.now().toString(36)}`;

/** A source of one entity of its own, named after it; registrations of different names never contradict each other. */
function thing(name: string, port: number) {
  const entity = `Thing${name}`;
  return {
    sources: {
      [`things${name}`]: {
        baseUrl: `http://127.0.0.1:${port}/things`,
        entities: { [entity]: { key: 'id', fields: { id: 'id' }, lookups: { id: { path: '/things/{value}', unique: true } }, query: { one: false, many: false, list: false } } },
      },
    },
  };
}

describeWithPostgres('concurrent registrations on two PostgreSQL replicas', () => {
  let sandboxes: Sandboxes;
  let billing: BillingSandboxHandle;
  let a: RegistryHarness;
  let b: RegistryHarness;

  beforeAll(async () => {
    sandboxes = await startSandboxes({ ports: { crm: 0, orders: 0, support: 0 } });
    billing = await startBilling({ apiKey: BILLING_KEY });
    const store = { kind: 'postgres' as const, url: DATABASE_URL!, schema: SCHEMA, pollIntervalMs: 30_000 };
    a = await startRegistryHarness({ store, sandboxes, billing });
    b = await startRegistryHarness({ store, sandboxes, billing });
  }, 60_000);

  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await sandboxes?.close();
    await billing?.close();
    const pool = new Pool({ connectionString: DATABASE_URL, max: 1 });
    await pool.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
    await pool.end();
  });

  it('commits each change or refuses it with REGISTRY_CONFLICT (409, retryable), never an internal error, and the refused ones succeed when sent again', async () => {
    const names = Array.from({ length: 6 }, (_, i) => `N${i}`);
    const register = (replica: RegistryHarness, name: string) =>
      fetch(`${replica.origin}/admin/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer admin-token-for-tests' },
        body: JSON.stringify({ query: 'mutation($d: JSON!) { registerSource(definition: $d, sample: false) { ok schemaVersion } }', variables: { d: thing(name, billing.port) } }),
      }).then(async (response) => ({ name, replica, status: response.status, body: (await response.json()) as { data?: { registerSource: { ok: boolean } } | null; errors?: Array<{ message: string; extensions: { code: string } }> } }));
    const first = await Promise.all(names.map((name, i) => register(i % 2 === 0 ? a : b, name)));
    for (const answer of first) {
      expect(answer.status).not.toBe(500);
      if (answer.body.errors) {
        expect(answer.body.errors.map((error) => error.extensions.code)).toEqual(['REGISTRY_CONFLICT']);
        expect(answer.status).toBe(409);
      } else expect(answer.body.data!.registerSource).toEqual({ ok: true, schemaVersion: expect.any(Number) });
    }
    // Sent again, one at a time, the refused ones go through.
    for (const answer of first.filter((answer) => answer.body.errors)) {
      const again = await register(answer.replica, answer.name);
      expect(again.body.errors).toBeUndefined();
      expect(again.body.data!.registerSource.ok).toBe(true);
    }
    const revisions = await Promise.all([a, b].map(async (replica) => (await replica.registry.status()).registryRevision));
    expect(Math.max(...revisions)).toBe(names.length);
    const status = await a.admin<{ status: { sources: Array<{ name: string }> } }>('{ status { sources { name } } }');
    await b.registry.reload('test');
    await a.registry.reload('test');
    expect((await a.registry.status()).schemaVersion).toBe(names.length);
    expect((await b.registry.status()).schemaVersion).toBe(names.length);
    expect(status.data).toBeDefined();
    expect((await fetch(`${a.origin}/healthz`)).status).toBe(200);
  });
});
