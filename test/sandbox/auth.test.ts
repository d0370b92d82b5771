import { crmDataset } from '../../sources/crm/data';
import { CRM_BASE_PATH, startCrm } from '../../sources/crm/server';
import { SANDBOX_CREDENTIALS, TOKEN_PATH } from '../../sources/sandbox/auth';
import type { SandboxHandle } from '../../sources/sandbox/server';
import { supportDataset } from '../../sources/support/data';
import { ManualClock } from '../support/manual-clock';
import { startSupport, SUPPORT_BASE_PATH } from '../../sources/support/server';
import { CRM_KEY, fetchJson, sandboxToken } from './http';

describe('CRM sandbox: API key', () => {
  let crm: SandboxHandle;
  beforeAll(async () => {
    crm = await startCrm();
  });
  afterAll(() => crm.close());
  const contactUrl = () => `${crm.url}${CRM_BASE_PATH}/sobjects/Contact/${crmDataset().contacts[0]!.Id}`;

  it('answers 401 in its own error format without the key or with a wrong one', async () => {
    for (const headers of [{}, { 'x-api-key': 'guess' }] as Array<Record<string, string>>) {
      const reply = await fetchJson(contactUrl(), { headers });
      expect(reply.status).toBe(401);
      expect(reply.body).toEqual([{ errorCode: 'INVALID_SESSION_ID', message: 'a valid API key in the x-api-key header is required' }]);
    }
    expect((await fetchJson(contactUrl(), { headers: CRM_KEY })).status).toBe(200);
  });

  it('serves its OpenAPI document to anyone', async () => {
    expect((await fetchJson(`${crm.url}/openapi.json`)).status).toBe(200);
  });
});

describe('support sandbox: OAuth 2.0 client credentials', () => {
  let support: SandboxHandle;
  let clock: ManualClock;
  beforeEach(async () => {
    clock = new ManualClock();
    support = await startSupport({ auth: { kind: 'oauth2ClientCredentials', ...SANDBOX_CREDENTIALS.support, tokenTtlSeconds: 1 }, clock });
  });
  afterEach(() => support.close());
  const ticketUrl = () => `${support.url}${SUPPORT_BASE_PATH}/tickets/${supportDataset().tickets[0]!.id}`;
  const token = (body: string, headers: Record<string, string> = {}) =>
    fetchJson<Record<string, unknown>>(`${support.url}${TOKEN_PATH}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body });

  it('answers 401 with a Bearer challenge without a valid token', async () => {
    const response = await fetch(ticketUrl(), { headers: { authorization: 'Bearer made-up' } });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
    expect(await response.json()).toMatchObject({ error: 'Unauthorized' });
  });

  it('issues tokens for the client credentials grant, in HTTP Basic or in the form, and counts them apart', async () => {
    const { clientId, clientSecret } = SANDBOX_CREDENTIALS.support;
    const viaForm = await token(`grant_type=client_credentials&client_id=${clientId}&client_secret=${clientSecret}`);
    expect(viaForm).toMatchObject({ status: 200, body: { token_type: 'Bearer', expires_in: 1, access_token: expect.any(String) }, headers: expect.anything() });
    expect(viaForm.headers.get('cache-control')).toBe('no-store');
    const bearer = { authorization: `Bearer ${await sandboxToken(support.url)}` };
    expect((await fetchJson(ticketUrl(), { headers: bearer })).status).toBe(200);
    expect(support.stats()).toMatchObject({ total: 1, tokenRequests: 2 });
  });

  it('refuses a wrong secret (invalid_client) and another grant (unsupported_grant_type)', async () => {
    const basic = `Basic ${Buffer.from(`${SANDBOX_CREDENTIALS.support.clientId}:wrong`).toString('base64')}`;
    const wrong = await token('grant_type=client_credentials', { authorization: basic });
    expect(wrong).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
    expect((await token('grant_type=password&username=a&password=b')).body).toEqual({ error: 'unsupported_grant_type', error_description: 'only client_credentials is supported' });
  });

  it('stops accepting a token when it expires (the moment its lifetime has passed on the clock) or is revoked', async () => {
    const bearer = () => ({ authorization: `Bearer ${issued}` });
    let issued = await sandboxToken(support.url);
    support.revokeTokens();
    expect((await fetchJson(ticketUrl(), { headers: bearer() })).status).toBe(401);
    issued = await sandboxToken(support.url);
    expect((await fetchJson(ticketUrl(), { headers: bearer() })).status).toBe(200);
    clock.advance(999);
    expect((await fetchJson(ticketUrl(), { headers: bearer() })).status).toBe(200);
    clock.advance(1);
    expect((await fetchJson(ticketUrl(), { headers: bearer() })).status).toBe(401);
  });
});
