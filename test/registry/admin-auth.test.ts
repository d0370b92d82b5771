import { adminCredentials, authenticateAdmin } from '../../src/server/admin-auth';
import { ADMIN_TOKEN, startRegistryHarness, VIEWER_TOKEN, type RegistryHarness } from '../support/registry-harness';

let h: RegistryHarness;
beforeAll(async () => {
  h = await startRegistryHarness();
});
afterAll(() => h?.close());

describe('the admin API credential', () => {
  it('is asked for before anything else: 401 UNAUTHENTICATED without one, or with one that is not a credential', async () => {
    const missing = await fetch(`${h.origin}/admin/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ status { schemaVersion } }"}' });
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toBe('Bearer realm="virtualize-admin"');
    expect(await missing.json()).toEqual({ errors: [{ message: 'The admin API needs an admin token: send "Authorization: Bearer <token>".', extensions: { code: 'UNAUTHENTICATED' } }] });
    const wrong = await h.admin('{ status { schemaVersion } }', {}, 'guess');
    expect(wrong).toMatchObject({ status: 401, errors: [{ extensions: { code: 'UNAUTHENTICATED' }, message: 'The token is not an admin credential of this gateway.' }] });
    const upload = await h.upload('customerInvoices', 'a,b\n1,2\n', { token: 'guess' });
    expect(upload.status).toBe(401);
  });

  it('has its own scopes: a read-only credential reads and dry-runs, and gets 403 FORBIDDEN for changes', async () => {
    expect(await h.admin('{ status { schemaVersion } }', {}, VIEWER_TOKEN)).toMatchObject({ status: 200, data: { status: { schemaVersion: 0 } } });
    const dryRun = await h.admin('mutation { validateDefinition(definition: {sources: {}}, sample: false) { ok } }', {}, VIEWER_TOKEN);
    expect(dryRun.data).toEqual({ validateDefinition: { ok: true } });
    const change = await h.admin('mutation { removeMapping(name: "customerInvoices") { ok } }', {}, VIEWER_TOKEN);
    expect(change).toMatchObject({
      status: 403,
      errors: [{ extensions: { code: 'FORBIDDEN' }, message: 'The admin credential "viewer" lacks the scope registry:write, which removeMapping needs.' }],
    });
    const upload = await h.upload('customerInvoices', 'a,b\n1,2\n', { token: VIEWER_TOKEN });
    expect(upload).toEqual({ status: 403, lines: [{ errors: [{ message: expect.stringContaining('lacks the scope registry:write, which importing a crosswalk needs'), extensions: { code: 'FORBIDDEN' } }] }] });
  });

  it('is separate from the consumer endpoint, which does not take an admin token and has no mutations', async () => {
    const refused = await fetch(`${h.origin}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` }, body: '{"query":"{ __schema { mutationType { name } } }"}' });
    expect(refused.status).toBe(401);
    expect(await refused.json()).toMatchObject({ errors: [{ extensions: { code: 'UNAUTHENTICATED' } }] });
    const consumer = await h.graphql('{ __schema { mutationType { name } } }');
    expect(consumer).toMatchObject({ data: { __schema: { mutationType: null } } });
  });

  it('is off, saying how to turn it on, when no credential is set; tokens are kept only as digests', () => {
    const definitions = { admin: { token: { env: 'NOT_SET_ADMIN_TOKEN' }, scopes: ['registry:read' as const, 'registry:write' as const] } };
    const none = adminCredentials(definitions, {});
    const off = authenticateAdmin(`Bearer ${ADMIN_TOKEN}`, none, ['NOT_SET_ADMIN_TOKEN']);
    if (off.ok) throw new Error('the admin API should be off');
    expect({ status: off.refusal.httpStatus, code: off.refusal.code, message: off.refusal.message }).toEqual({
      status: 403,
      code: 'ADMIN_DISABLED',
      message: "The admin API is disabled: no admin credential is set. Set NOT_SET_ADMIN_TOKEN in the gateway's environment and restart it.",
    });
    const some = adminCredentials(definitions, { NOT_SET_ADMIN_TOKEN: 'x'.repeat(40) });
    expect(JSON.stringify(some)).not.toContain('x'.repeat(40));
    expect(authenticateAdmin(`Bearer ${'x'.repeat(40)}`, some, [])).toMatchObject({ ok: true, credential: { name: 'admin' } });
  });
});
