/**
 * The registry commands against a running gateway (a real `virtualize start` process), as an
 * architect uses them: validate, add, import with a progress bar, status, remove.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSandboxes } from '../../sources/sandbox';
import { BILLING_BASE_PATH, startBilling, type BillingSandboxHandle } from '../../sources/billing/server';
import { startGatewayProcess, writeTestConfig, type GatewayProcess } from '../support/gateway-process';
import { PROJECT_ROOT, sandboxEnv, type Sandboxes } from '../support/harness';
import { ADMIN_TOKEN, BILLING_KEY } from '../support/registry-harness';

const BIN = join(PROJECT_ROOT, 'bin/virtualize.js');

let sandboxes: Sandboxes;
let billing: BillingSandboxHandle;
let gateway: GatewayProcess;
let config: ReturnType<typeof writeTestConfig>;
let dir: string;

/** Runs the command without blocking this process, which hosts the sandboxes the gateway calls. */
function virtualize(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd: PROJECT_ROOT, timeout: 30_000, env: { ...process.env, VIRTUALIZE_ADMIN_URL: gateway.origin, VIRTUALIZE_ADMIN_TOKEN: ADMIN_TOKEN, ...env } }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
    });
  });
}

beforeAll(async () => {
  sandboxes = await startSandboxes({ ports: { crm: 0, orders: 0, support: 0 } });
  billing = await startBilling({ apiKey: BILLING_KEY });
  config = writeTestConfig([`127.0.0.1:${billing.port}`]);
  dir = mkdtempSync(join(tmpdir(), 'virtualize-cli-registry-'));
  gateway = await startGatewayProcess(['--config', config.file], {
    ...sandboxEnv(sandboxes),
    VIRTUALIZE_REGISTRY_DIR: dir,
    VIRTUALIZE_ADMIN_TOKEN: ADMIN_TOKEN,
    BILLING_URL: `${billing.url}${BILLING_BASE_PATH}`,
    BILLING_API_KEY: BILLING_KEY,
  });
}, 30_000);

afterAll(async () => {
  expect(await gateway?.stop()).toBe(0);
  await sandboxes?.close();
  await billing?.close();
  config?.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

describe('virtualize sources, mappings, status', () => {
  it('validates a definition file: sample calls, schema changes, warnings, and what to run next', async () => {
    const result = await virtualize(['sources', 'validate', 'sources/billing/definition.json']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/ok {3}billing Invoice list +3 records/);
    expect(result.stdout).toContain('  Customer: +invoices +openBalance\n');
    expect(result.stdout).toContain('mappings.customerInvoices: none of 20 sampled Customer records has a partner yet');
    expect(result.stdout).toContain('OK: sources/billing/definition.json can be registered (virtualize sources add sources/billing/definition.json).');
  });

  it('refuses a broken definition with every problem and its path, and exits 1', async () => {
    const broken = JSON.parse(readFileSync(join(PROJECT_ROOT, 'sources/billing/definition.json'), 'utf8')) as { sources: { billing: { entities: { Invoice: { lookups: { id: { method: string } }; key: string } } } } };
    broken.sources.billing.entities.Invoice.lookups.id.method = 'PUT';
    broken.sources.billing.entities.Invoice.key = 'Number';
    const file = join(dir, 'broken.json');
    writeFileSync(file, JSON.stringify(broken));
    const result = await virtualize(['sources', 'add', file]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('2 problems:');
    expect(result.stdout).toContain('  - sources.billing.entities.Invoice.key: use a camelCase GraphQL field name, e.g. placedAt (expected text matching /^[a-z][A-Za-z0-9]*$/; found the string "Number")');
    expect(result.stdout).toContain('  - sources.billing.entities.Invoice.lookups.id.method: expected one of "GET", "POST", found the string "PUT"');
    expect(result.stdout).toContain('Refused: nothing changed (schema version 0 stays live).');
  });

  it('registers the billing system, imports its crosswalk with a progress bar, and shows the result in status', async () => {
    const added = await virtualize(['sources', 'add', 'sources/billing/definition.json', '--no-sample']);
    expect(added.code).toBe(0);
    expect(added.stdout).toContain('Registered: register source billing, mapping customerInvoices. Schema version 1 is live.');

    const imported = await virtualize(['mappings', 'import', 'sources/billing/crosswalk.csv', '--mapping', 'customerInvoices']);
    expect(imported.code).toBe(0);
    expect(imported.stderr).toMatch(/100% 9,065 rows\n$/);
    expect(imported.stdout).toMatch(/^Imported into customerInvoices: 9,065 rows, 9,065 new pairs, in \d+\.\d s \([\d,]+ rows\/s\)\.\n$/);

    const status = await virtualize(['status']);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(`Gateway ${gateway.origin}: schema version 1 (registry revision 1, file ${dir})`);
    expect(status.stdout).toMatch(/ {2}billing +registry +Invoice/);
    expect(status.stdout).toMatch(/ {2}customerInvoices +registry +crosswalk +Customer\.id -> Invoice\.customerNumber +9,065 pairs/);

    const audit = await virtualize(['audit', '--limit', '2']);
    expect(audit.stdout).toMatch(/ admin: importCrosswalk customerInvoices: 9065 rows, 9065 pairs added, 0 rejected\n/);
    expect(audit.stdout).toMatch(/rev 1 {3}admin: register source billing, mapping customerInvoices\n {6}\+ sources\.billing\n {6}\+ mappings\.customerInvoices\n/);
  });

  it('removes what a definition file registered', async () => {
    const refused = await virtualize(['sources', 'remove', 'sources/billing/definition.json']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('CONFLICT: registered mappings join source billing: customerInvoices; remove them first, or remove with their mappings (withMappings)');
    const removed = await virtualize(['sources', 'remove', 'sources/billing/definition.json', '--with-mappings']);
    expect(removed.code).toBe(0);
    expect(removed.stdout).toContain('Removed: remove source billing (removed), mapping customerInvoices (removed). Schema version 2 is live.');
  });

  it('says plainly when the token is wrong or the gateway is not there', async () => {
    const wrong = await virtualize(['status'], { VIRTUALIZE_ADMIN_TOKEN: 'nope' });
    expect(wrong).toMatchObject({ code: 1, stdout: '', stderr: 'UNAUTHENTICATED: The token is not an admin credential of this gateway.\n' });
    const none = await virtualize(['status', '--admin-url', 'http://127.0.0.1:1']);
    expect(none.code).toBe(1);
    expect(none.stderr).toBe('UNREACHABLE: Cannot reach the gateway at http://127.0.0.1:1 (ECONNREFUSED): is it running? Pass --admin-url or set VIRTUALIZE_ADMIN_URL.\n');
  });
});

describe('virtualize keys', () => {
  it('creates a key shown once, lists it without the key, and revokes it: the gateway takes it, then refuses it', async () => {
    const ask = (key: string) =>
      fetch(`${gateway.origin}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': key }, body: JSON.stringify({ query: '{ customers(first: 1) { nodes { id } } }' }) });
    const created = await virtualize(['keys', 'create', '--name', 'reporting', '--scopes', 'customers:read,orders:read', '--expires', '2099-01-01T00:00:00Z']);
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    const [, id, key] = /^Created API key ([a-z2-7]{12}) \(reporting\), scopes customers:read orders:read, expires 2099-01-01T00:00:00.000Z\.\nKey \(shown this once; send it as x-api-key\): (vz_[a-z2-7]{12}_[A-Za-z0-9_-]{43})\n$/.exec(created.stdout) ?? [];
    expect(key?.startsWith(`vz_${id}_`)).toBe(true);
    expect((await ask(key!)).status).toBe(200);

    const listed = await virtualize(['keys', 'list']);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(new RegExp(`^${id}  reporting +customers:read orders:read +created \\S+  last used \\S+  expires 2099-01-01T00:00:00.000Z$`, 'm'));
    expect(listed.stdout).not.toContain(key!.slice(16));
    // Only digests on disk.
    expect(readFileSync(join(dir, 'api-keys.json'), 'utf8')).not.toContain(key!.slice(16));

    const revoked = await virtualize(['keys', 'revoke', id!]);
    expect(revoked).toMatchObject({ code: 0, stdout: `Revoked API key ${id}: refused from now on (other replicas within 30 s).\n` });
    expect((await ask(key!)).status).toBe(401);
    const unknown = await virtualize(['keys', 'revoke', 'aaaaaaaaaaaa']);
    expect(unknown.code).toBe(1);
    const audit = await virtualize(['audit', '--limit', '2']);
    expect(audit.stdout).toContain(`revoked API key ${id}`);
    expect(audit.stdout).toContain(`created API key ${id} (reporting)`);
    expect(audit.stdout).not.toContain(key!.slice(16));
  });

  it('says what is missing', async () => {
    const result = await virtualize(['keys', 'create', '--scopes', 'customers:read']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('keys create needs a name');
  });
});
