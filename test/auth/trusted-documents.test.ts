/**
 * Trusted documents against a real gateway and its sandboxes: each mode (off, log, enforce),
 * operations pushed through the admin API and the CLI and run by hash and by documentId, the
 * refusals (an inline document under enforce, an unknown id, a hash that is not its document's)
 * each with its code and 0 upstream calls, the metrics, and the PostgreSQL manifest shared by two
 * runtimes.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'pg';
import { operationIdOf } from '../../src/auth/operation-id';
import { runAdminCommand } from '../../src/cli/admin-commands';
import type { RegistryDefinition, VirtualizationConfigInput } from '../../src/config/definition';
import { DEMO_HEADERS, startHarness, testKeys, type GraphQLResponse, type Harness } from '../support/harness';
import { ManualClock } from '../support/manual-clock';

const ADMIN_TOKEN = 'admin-token-for-trusted-documents';
type Mode = 'off' | 'log' | 'enforce';

const CUSTOMERS = 'query TopCustomers { customers(first: 2) { nodes { id name } } }';
const ORDERS = 'query Orders($first: Int!) { customers(first: $first) { nodes { orders(first: 1) { number } } } }';

function withTrustedDocuments(mode: Mode, inlineScope?: string): (config: VirtualizationConfigInput) => VirtualizationConfigInput {
  return (config) => ({ ...config, auth: { ...config.auth, trustedDocuments: { mode, ...(inlineScope ? { inlineScope } : {}) } } });
}

/** An analyst's key: customers, and the scope that may still send documents inline. */
const analyst = testKeys({ analyst: ['customers:read', 'graphiql:inline'] });

function start(mode: Mode, extra: { clock?: ManualClock; store?: RegistryDefinition['store'] } = {}): Promise<Harness> {
  return startHarness({
    configure: (config) => analyst.configure(withTrustedDocuments(mode, 'graphiql:inline')(config)),
    env: { VIRTUALIZE_ADMIN_TOKEN: ADMIN_TOKEN, ...analyst.env },
    ...extra,
  });
}

/** A GraphQL request with any body (ids instead of a query, documentId), counting what reached the sandboxes. */
async function send(harness: Harness, body: Record<string, unknown>, init: { method?: 'GET' | 'POST'; search?: Record<string, string>; headers?: Record<string, string> } = {}): Promise<GraphQLResponse & { upstream: number }> {
  const credential = init.headers ?? DEMO_HEADERS;
  harness.resetUpstream();
  const url = new URL(harness.url);
  for (const [name, value] of Object.entries(init.search ?? {})) url.searchParams.set(name, value);
  const response =
    init.method === 'GET'
      ? await fetch(url, { headers: { accept: 'application/json', 'x-graphql-yoga-csrf': '1', ...credential } })
      : await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json', ...credential }, body: JSON.stringify(body) });
  const answer = (await response.json()) as Omit<GraphQLResponse, 'status'>;
  return { status: response.status, ...answer, upstream: harness.upstream().total };
}

const byHash = (hash: string, variables?: Record<string, unknown>) => ({ extensions: { persistedQuery: { version: 1, sha256Hash: hash } }, ...(variables ? { variables } : {}) });

async function push(harness: Harness, documents: string[]): Promise<{ ok: boolean; problems: Array<{ index: number; message: string }>; operations: Array<{ hash: string; name: string | null; added: boolean }> }> {
  const response = await fetch(`${harness.server.url}/admin/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
    body: JSON.stringify({
      query: 'mutation($operations: [OperationInput!]!) { pushOperations(operations: $operations) { ok problems { index message } operations { hash name added } } }',
      variables: { operations: documents.map((document) => ({ document })) },
    }),
  });
  const answer = (await response.json()) as { data?: { pushOperations: Awaited<ReturnType<typeof push>> }; errors?: unknown };
  if (!answer.data) throw new Error(`push failed: ${JSON.stringify(answer.errors)}`);
  return answer.data.pushOperations;
}

/** The trusted-documents counter, by kind and outcome, as /metrics serves it. */
async function counted(harness: Harness): Promise<Record<string, number>> {
  const text = await (await fetch(`${harness.server.url}/metrics`)).text();
  const samples: Record<string, number> = {};
  for (const match of text.matchAll(/^virtualize_trusted_documents_total\{kind="([a-z_]+)",outcome="([a-z]+)"\} (\d+)$/gm)) samples[`${match[1]}/${match[2]}`] = Number(match[3]);
  return samples;
}

describe('trusted documents, mode enforce', () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await start('enforce');
  });
  afterAll(() => harness?.close());

  it('refuses an inline document that is not registered, before any upstream call', async () => {
    const answer = await send(harness, { query: CUSTOMERS });
    expect(answer.status).toBe(403);
    expect(answer.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_ALLOWED');
    expect(answer.errors?.[0]?.message).toContain('virtualize operations push');
    expect(answer.data ?? null).toBeNull();
    expect(answer.upstream).toBe(0);
  });

  it('runs a pushed operation by sha256Hash and by documentId, as the inline document would run', async () => {
    const report = await push(harness, [CUSTOMERS, ORDERS]);
    expect(report).toMatchObject({ ok: true, problems: [] });
    expect(report.operations).toEqual([
      { hash: operationIdOf(CUSTOMERS), name: 'TopCustomers', added: true },
      { hash: operationIdOf(ORDERS), name: 'Orders', added: true },
    ]);
    const viaHash = await send(harness, byHash(operationIdOf(CUSTOMERS)));
    expect(viaHash.errors).toBeUndefined();
    expect((viaHash.data as { customers: { nodes: unknown[] } }).customers.nodes).toHaveLength(2);
    expect(viaHash.upstream).toBe(1);
    const viaDocumentId = await send(harness, { documentId: `sha256:${operationIdOf(ORDERS)}`, variables: { first: 2 } });
    expect(viaDocumentId.errors).toBeUndefined();
    expect((viaDocumentId.data as { customers: { nodes: unknown[] } }).customers.nodes).toHaveLength(2);
    expect(viaDocumentId.upstream).toBeGreaterThan(0);
    const viaGet = await send(harness, {}, { method: 'GET', search: { documentId: operationIdOf(CUSTOMERS) } });
    expect(viaGet.status).toBe(200);
    expect(viaGet.data).toEqual(viaHash.data);
    // The registered document sent in full is a trusted document too.
    const inFull = await send(harness, { query: CUSTOMERS });
    expect(inFull.data).toEqual(viaHash.data);
    // Pushing it again adds nothing.
    expect((await push(harness, [CUSTOMERS])).operations).toEqual([{ hash: operationIdOf(CUSTOMERS), name: 'TopCustomers', added: false }]);
  });

  it('refuses an unknown id and a hash that is not its document, with 0 upstream calls', async () => {
    const unknown = await send(harness, byHash(operationIdOf('{ customers(first: 1) { nodes { id } } }')));
    expect(unknown.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_FOUND');
    expect(unknown.upstream).toBe(0);
    const garbage = await send(harness, { documentId: 'not-a-hash' });
    expect(garbage.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_FOUND');
    // A registered hash smuggling another document.
    const smuggled = await send(harness, { query: '{ customers(first: 50) { nodes { id email } } }', ...byHash(operationIdOf(CUSTOMERS)) });
    expect(smuggled.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_HASH_MISMATCH');
    expect(smuggled.upstream).toBe(0);
    const neither = await send(harness, {});
    expect(neither.errors?.[0]?.extensions?.code).toBe('BAD_REQUEST');
  });

  it('refuses a push with a document that does not fit the schema, registering none of it', async () => {
    const report = await push(harness, ['query Fine { customers(first: 1) { nodes { id } } }', '{ customers(first: 1) { nodes { salary } } }', 'not graphql {']);
    expect(report.ok).toBe(false);
    expect(report.problems.map((problem) => problem.index)).toEqual([1, 2]);
    expect(report.problems[0]!.message).toMatch(/does not fit the schema: Cannot query field "salary"/);
    expect(report.problems[1]!.message).toMatch(/is not GraphQL/);
    const fine = await send(harness, byHash(operationIdOf('query Fine { customers(first: 1) { nodes { id } } }')));
    expect(fine.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_FOUND');
  });

  it('records each push in the audit trail', async () => {
    const audit = await harness.registry.auditTrail(10);
    const pushes = audit.filter((entry) => entry.action === 'pushOperations');
    expect(pushes.length).toBeGreaterThanOrEqual(2);
    expect(pushes.at(-1)).toMatchObject({ actor: 'admin', revision: null, summary: 'pushed 2 trusted operations, 2 new: TopCustomers, Orders' });
    expect(pushes.at(-1)!.diff).toEqual([
      { op: 'add', path: `operations.${operationIdOf(CUSTOMERS)}`, after: 'TopCustomers' },
      { op: 'add', path: `operations.${operationIdOf(ORDERS)}`, after: 'Orders' },
    ]);
  });

  it('counts known ids, unknown ids, hash mismatches and inline documents', async () => {
    expect(await counted(harness)).toEqual({
      'inline/refused': 1,
      'known_id/served': 3,
      'inline_registered/served': 1,
      'unknown_id/refused': 3,
      'hash_mismatch/refused': 1,
    });
  });

  it('lets a caller holding the inline scope send any document, and no one else', async () => {
    const adHoc = '{ customers(first: 1) { nodes { name segment } } }';
    const byAnalyst = await send(harness, { query: adHoc }, { headers: analyst.headers('analyst') });
    expect(byAnalyst.errors).toBeUndefined();
    expect(byAnalyst.upstream).toBe(1);
    const byDashboard = await send(harness, { query: adHoc });
    expect(byDashboard.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_ALLOWED');
    expect(byDashboard.upstream).toBe(0);
  });

  it('pushes .graphql files and a JSON manifest with virtualize operations push, and lists them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'virtualize-operations-'));
    try {
      const tickets = 'query Tickets {\n  customers(first: 1) {\n    nodes { tickets { subject } }\n  }\n}\n';
      const segment = 'query Segment { customers(first: 1) { nodes { segment } } }';
      writeFileSync(join(dir, 'tickets.graphql'), tickets);
      writeFileSync(join(dir, 'persisted-documents.json'), JSON.stringify({ [operationIdOf(segment)]: segment }));
      let out = '';
      let err = '';
      const run = (args: string[]) => runAdminCommand([...args, '--admin-url', harness.server.url, '--token', ADMIN_TOKEN], (text) => (out += text), (text) => (err += text));
      expect(await run(['operations', 'push', join(dir, 'tickets.graphql'), join(dir, 'persisted-documents.json')])).toBe(0);
      expect(err).toBe('');
      expect(out).toContain(`+ ${operationIdOf(tickets)}  Tickets`);
      expect(out).toContain(`+ ${operationIdOf(segment)}  Segment`);
      expect(out).toContain('Registered 2 new operations (2 pushed).');
      // The file's exact text, trailing newline included, is what clients send.
      expect((await send(harness, { query: tickets })).errors).toBeUndefined();
      expect((await send(harness, byHash(operationIdOf(segment)))).errors).toBeUndefined();

      out = '';
      expect(await run(['operations', 'list', '--limit', '2'])).toBe(0);
      expect(out.trim().split('\n')).toHaveLength(2);
      expect(out).toContain(operationIdOf(tickets));

      // A manifest whose id is not the hash of its document is refused as a whole.
      writeFileSync(join(dir, 'wrong.json'), JSON.stringify({ operations: [{ id: 'f'.repeat(64), body: segment }] }));
      out = '';
      expect(await run(['operations', 'push', join(dir, 'wrong.json')])).toBe(1);
      expect(out).toMatch(/Refused: nothing of this push was registered\. 1 problem:\n {2}- .*wrong\.json#f+: the hash given \(f+\) is not the SHA-256 of the document/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('trusted documents, modes log and off', () => {
  it('log: runs unknown inline documents and counts them apart from registered ones', async () => {
    const harness = await start('log');
    try {
      const inline = await send(harness, { query: CUSTOMERS });
      expect(inline.errors).toBeUndefined();
      expect(inline.upstream).toBe(1);
      await push(harness, [CUSTOMERS]);
      expect((await send(harness, { query: CUSTOMERS })).errors).toBeUndefined();
      expect((await send(harness, byHash(operationIdOf(CUSTOMERS)))).errors).toBeUndefined();
      // An id still needs its operation, and a hash still needs to be its document's.
      expect((await send(harness, byHash(operationIdOf(ORDERS)))).errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_FOUND');
      expect((await send(harness, { query: ORDERS, ...byHash(operationIdOf(CUSTOMERS)) })).errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_HASH_MISMATCH');
      expect(await counted(harness)).toEqual({ 'inline/served': 1, 'inline_registered/served': 1, 'known_id/served': 1, 'unknown_id/refused': 1, 'hash_mismatch/refused': 1 });
    } finally {
      await harness.close();
    }
  });

  it('off: runs every inline document, and still serves registered operations by id', async () => {
    const harness = await start('off');
    try {
      expect((await send(harness, { query: CUSTOMERS })).errors).toBeUndefined();
      await push(harness, [CUSTOMERS]);
      expect((await send(harness, byHash(operationIdOf(CUSTOMERS)))).errors).toBeUndefined();
      expect(await counted(harness)).toEqual({ 'inline/served': 1, 'known_id/served': 1 });
    } finally {
      await harness.close();
    }
  });
});

const DATABASE_URL = process.env.DATABASE_URL;
if (!DATABASE_URL) console.warn('PostgreSQL trusted-documents test skipped: set DATABASE_URL (CI sets postgres://postgres@127.0.0.1:5432/test) to run it.');
const describeWithPostgres = DATABASE_URL ? describe : describe.skip;

describeWithPostgres('the trusted-documents manifest in PostgreSQL', () => {
  const schema = `vt_operations_${process.pid}_${Date.now().toString(36)}`;
  let a: Harness;
  let b: Harness;
  const clockB = new ManualClock();

  beforeAll(async () => {
    const store = { kind: 'postgres' as const, url: DATABASE_URL!, schema, pollIntervalMs: 60_000 };
    a = await start('enforce', { store });
    b = await start('enforce', { store, clock: clockB });
  }, 60_000);

  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    const pool = new Pool({ connectionString: DATABASE_URL, max: 1 });
    await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await pool.end();
  });

  it('is shared by the runtimes: an operation pushed on one runs on the other', async () => {
    // b asks first: the id is unknown there, and is remembered as such for a few seconds.
    expect((await send(b, byHash(operationIdOf(ORDERS), { first: 1 }))).errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_FOUND');
    expect((await push(a, [CUSTOMERS, ORDERS])).ok).toBe(true);
    const onB = await send(b, byHash(operationIdOf(CUSTOMERS)));
    expect(onB.errors).toBeUndefined();
    expect((await send(a, byHash(operationIdOf(CUSTOMERS)))).data).toEqual(onB.data);
    // Once b's memory of the absence has expired, b finds the operation too.
    clockB.advance(5_001);
    expect((await send(b, byHash(operationIdOf(ORDERS), { first: 1 }))).errors).toBeUndefined();
    const pool = new Pool({ connectionString: DATABASE_URL, max: 1 });
    try {
      const { rows } = await pool.query<{ version: number }>(`SELECT version FROM ${schema}.schema_migrations ORDER BY version`);
      expect(rows.map((row) => row.version)).toEqual([1, 2, 3, 4]);
      const { rows: stored } = await pool.query<{ hash: string; name: string }>(`SELECT hash, name FROM ${schema}.trusted_operations ORDER BY name`);
      expect(stored).toEqual([
        { hash: operationIdOf(ORDERS), name: 'Orders' },
        { hash: operationIdOf(CUSTOMERS), name: 'TopCustomers' },
      ]);
    } finally {
      await pool.end();
    }
  });
});
