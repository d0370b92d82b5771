/**
 * Managed API keys, through the admin API as an operator uses it: created (the key shown once,
 * kept as a digest), listed without the key, used, revoked (refused at once on this replica),
 * expired (refused on the runtime's clock, which the test moves), and shared between two replicas
 * over the PostgreSQL store. Refusals call no source.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileApiKeyStore } from '../../src/registry/api-key-stores';
import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { CACHE_TTL_MS, ManagedKeys, TOUCH_INTERVAL_MS } from '../../src/auth/managed-keys';
import { ManualClock } from '../support/manual-clock';
import { startRegistryHarness, type RegistryHarness } from '../support/registry-harness';

const QUERY = '{ customers(first: 1) { nodes { id } } }';
const KEY_FIELDS = 'id name scopes createdAt lastUsedAt expiresAt revokedAt';

interface Created {
  key: string;
  apiKey: { id: string; name: string; scopes: string[]; expiresAt: string | null };
  audit: { action: string; summary: string };
}

async function create(h: RegistryHarness, name: string, scopes: string[], expiresAt?: string): Promise<Created> {
  const answer = await h.admin<{ createApiKey: Created }>(
    `mutation($name: String!, $scopes: [String!]!, $expiresAt: String) { createApiKey(name: $name, scopes: $scopes, expiresAt: $expiresAt) { key apiKey { ${KEY_FIELDS} } audit { action summary } } }`,
    { name, scopes, expiresAt: expiresAt ?? null },
  );
  expect(answer.errors).toBeUndefined();
  return answer.data!.createApiKey;
}

const upstream = (h: RegistryHarness) => [h.sandboxes.crm, h.sandboxes.orders, h.sandboxes.support].reduce((sum, sandbox) => sum + Object.values(sandbox.stats().byRoute).reduce((a, b) => a + b, 0), 0);

describe('managed API keys on the file store', () => {
  let h: RegistryHarness;
  const clock = new ManualClock();
  beforeAll(async () => {
    h = await startRegistryHarness({ clock });
  });
  afterAll(() => h?.close());

  it('creates a key shown once, kept as a digest, listed without it, and accepted in both header forms', async () => {
    const created = await create(h, 'reporting', ['customers:read', 'orders:read']);
    expect(created.key).toMatch(/^vz_[a-z2-7]{12}_[A-Za-z0-9_-]{43}$/);
    expect(created.key.startsWith(`vz_${created.apiKey.id}_`)).toBe(true);
    expect(created.audit).toMatchObject({ action: 'createApiKey', summary: expect.stringContaining(created.apiKey.id) });
    expect(created.audit.summary).not.toContain(created.key);

    for (const headers of [{ 'x-api-key': created.key }, { authorization: `ApiKey ${created.key}` }] as Array<Record<string, string>>) {
      const answer = await h.graphql(QUERY, undefined, headers);
      expect(answer.status).toBe(200);
      expect(answer.errors).toBeUndefined();
    }
    const listed = await h.admin<{ apiKeys: Array<Record<string, unknown>> }>(`{ apiKeys { ${KEY_FIELDS} } }`);
    const entry = listed.data!.apiKeys.find((key) => key.id === created.apiKey.id)!;
    expect(entry).toMatchObject({ name: 'reporting', scopes: ['customers:read', 'orders:read'], revokedAt: null, expiresAt: null, createdAt: new Date(clock.wallNow()).toISOString() });
    // The use was recorded (once: a second use within the minute writes nothing).
    expect(entry.lastUsedAt).toBe(new Date(clock.wallNow()).toISOString());
    // Nothing on disk, in the answer or in the audit trail holds the key or its secret.
    const secret = created.key.split('_').slice(2).join('_');
    expect(JSON.stringify(listed)).not.toContain(secret);
    const audit = await h.admin<{ audit: unknown[] }>('{ audit(limit: 5) { action summary diff { op path before after } } }');
    expect(JSON.stringify(audit)).not.toContain(secret);
    expect(JSON.stringify(audit)).toContain('createApiKey');
  });

  it('refuses a revoked key at once, before any upstream call, and audits the revocation by id', async () => {
    const created = await create(h, 'to-revoke', ['customers:read']);
    expect((await h.graphql(QUERY, undefined, { 'x-api-key': created.key })).status).toBe(200);
    const revoked = await h.admin<{ revokeApiKey: { revoked: boolean; audit: { summary: string } } }>('mutation($id: String!) { revokeApiKey(id: $id) { revoked audit { summary } } }', { id: created.apiKey.id });
    expect(revoked.data!.revokeApiKey).toEqual({ revoked: true, audit: { summary: `revoked API key ${created.apiKey.id}` } });
    const before = upstream(h);
    const refused = await h.graphql(QUERY, undefined, { 'x-api-key': created.key });
    expect(refused.status).toBe(401);
    expect(refused.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(upstream(h)).toBe(before);
    const again = await h.admin<{ revokeApiKey: { revoked: boolean } }>('mutation { revokeApiKey(id: "aaaaaaaaaaaa") { revoked } }');
    expect(again.data!.revokeApiKey.revoked).toBe(false);
  });

  it('refuses an expired key, on the runtime clock', async () => {
    const at = new Date(clock.wallNow() + 60 * 60_000).toISOString();
    const created = await create(h, 'short-lived', ['customers:read'], at);
    expect(created.apiKey.expiresAt).toBe(at);
    expect((await h.graphql(QUERY, undefined, { 'x-api-key': created.key })).status).toBe(200);
    clock.advance(60 * 60_000);
    const refused = await h.graphql(QUERY, undefined, { 'x-api-key': created.key });
    expect(refused.status).toBe(401);
    expect(refused.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('refuses bad input with what is wrong, a key with a forged secret, and key management to a reader', async () => {
    const bad = await h.admin('mutation { createApiKey(name: " ", scopes: ["not a scope"], expiresAt: "yesterday") { key } }');
    expect(bad.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(bad.errors?.[0]?.message).toMatch(/name must be 1 to 100 characters; "not a scope" is not a scope .*; expiresAt must be an ISO-8601 date/);
    const past = await h.admin(`mutation { createApiKey(name: "late", scopes: [], expiresAt: "${new Date(clock.wallNow() - 1_000).toISOString()}") { key } }`);
    expect(past.errors?.[0]?.message).toMatch(/is not in the future/);

    const created = await create(h, 'forged', ['customers:read']);
    const forged = `vz_${created.apiKey.id}_${'A'.repeat(43)}`;
    expect((await h.graphql(QUERY, undefined, { 'x-api-key': forged })).status).toBe(401);
    const viewer = await h.admin('mutation { createApiKey(name: "x", scopes: []) { key } }', {}, 'viewer-token-for-tests');
    expect(viewer.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    // A reader may list.
    expect((await h.admin('{ apiKeys { id } }', {}, 'viewer-token-for-tests')).errors).toBeUndefined();
  });

  it('the cache and touch intervals are the documented ones', () => {
    expect([CACHE_TTL_MS, TOUCH_INTERVAL_MS]).toEqual([30_000, 60_000]);
  });
});

describe('the file store of managed keys', () => {
  it('keeps the id and the digest of the secret, never the key, and reads them back after a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'virtualize-keys-'));
    try {
      const keys = new ManagedKeys(new FileApiKeyStore(dir));
      const { key, record } = await keys.create({ name: 'disk', scopes: ['orders:read'], expiresAt: null });
      const onDisk = readFileSync(join(dir, 'api-keys.json'), 'utf8');
      expect(onDisk).toContain(record.id);
      expect(onDisk).not.toContain(key.split('_').slice(2).join('_'));
      const reopened = new FileApiKeyStore(dir);
      await reopened.restore();
      await expect(new ManagedKeys(reopened).authenticate(key)).resolves.toMatchObject({ clientId: `key:${record.id}`, keyId: record.id, subject: 'disk' });
      await expect(new ManagedKeys(reopened).authenticate(`${key.slice(0, -1)}${key.endsWith('A') ? 'B' : 'A'}`)).resolves.toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

const DATABASE_URL = process.env.DATABASE_URL;
if (!DATABASE_URL) console.log('Managed keys across replicas skipped: set DATABASE_URL (for example postgres://postgres@127.0.0.1:5432/test) to run it');

(DATABASE_URL ? describe : describe.skip)('managed API keys in PostgreSQL, shared by two replicas', () => {
  const schema = `vz_keys_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  let a: RegistryHarness;
  let b: RegistryHarness;
  beforeAll(async () => {
    const store = { kind: 'postgres' as const, url: DATABASE_URL!, schema, pollIntervalMs: 30_000 };
    a = await startRegistryHarness({ store });
    b = await startRegistryHarness({ store, sandboxes: a.sandboxes, billing: a.billing });
  }, 60_000);
  afterAll(async () => {
    await b?.close();
    await a?.close();
    const pool = new Pool({ connectionString: DATABASE_URL });
    await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await pool.end();
  });

  it('a key created on one replica works on the other; revoked there, it is refused there at once', async () => {
    const created = await create(a, 'fleet', ['customers:read']);
    const onB = await b.graphql(QUERY, undefined, { 'x-api-key': created.key });
    expect(onB.status).toBe(200);
    expect(onB.errors).toBeUndefined();
    const listed = await b.admin<{ apiKeys: Array<{ id: string }> }>('{ apiKeys { id } }');
    expect(listed.data!.apiKeys.map((key) => key.id)).toContain(created.apiKey.id);
    await b.admin('mutation($id: String!) { revokeApiKey(id: $id) { revoked } }', { id: created.apiKey.id });
    expect((await b.graphql(QUERY, undefined, { 'x-api-key': created.key })).status).toBe(401);
  });
});
