import { Pool, type Dispatcher } from 'undici';
import { authDefinition } from '../../../src/config/definition';
import { TokenRequestError } from '../../../src/connectors/errors';
import { attempt, newCallRecord } from '../../../src/connectors/policies/attempt';
import { authenticate, credentialsFor, renewOnUnauthorized, type Credentials } from '../../../src/connectors/policies/credentials';
import { startFakeSource, type FakeSource } from '../../support/fake-source';
import { ManualClock } from '../../support/manual-clock';

/** Bounds each loopback call, which is not what these tests are about: generous, so that a busy machine never trips it. */
const LOOPBACK_BOUND_MS = 10_000;

const SECRET = 's3cr3t value';
const env = { API_KEY: 'k-123', CLIENT_SECRET: SECRET };

/** A source with its own token endpoint; `valid` says which tokens its API accepts. */
async function oauthSource(options: { expiresIn?: number; refuseAll?: boolean } = {}) {
  let issued = 0;
  const valid = new Set<string>();
  const source = await startFakeSource(({ path, headers, body }) => {
    if (path === '/oauth/token') {
      const expected = `Basic ${Buffer.from(`gateway:${encodeURIComponent(SECRET).replace(/%20/g, '+')}`).toString('base64')}`;
      if (headers.authorization !== expected || !body.includes('grant_type=client_credentials')) return { status: 401, body: '{"error":"invalid_client"}' };
      const token = `token-${++issued}`;
      if (!options.refuseAll) valid.add(token);
      return { body: JSON.stringify({ access_token: token, token_type: 'Bearer', expires_in: options.expiresIn ?? 3600 }) };
    }
    const token = /^Bearer (.+)$/.exec(headers.authorization ?? '')?.[1];
    return token && valid.has(token) ? { body: '{"ok":true}' } : { status: 401 };
  });
  return { source, revoke: () => valid.clear(), tokenRequests: () => source.requests.filter((r) => r.path === '/oauth/token').length };
}

function oauth(source: FakeSource, renewBeforeExpiryMs = 30_000, secretEnv = 'CLIENT_SECRET', clock?: ManualClock) {
  const auth = authDefinition.parse({ type: 'oauth2ClientCredentials', tokenUrl: '/oauth/token', clientId: 'gateway', clientSecret: { env: secretEnv }, renewBeforeExpiryMs });
  return credentialsFor('support', auth, { origin: source.origin, env, timeoutMs: LOOPBACK_BOUND_MS, connectTimeoutMs: LOOPBACK_BOUND_MS, ...(clock ? { clock } : {}) })!;
}

describe('credentials', () => {
  const open: Array<{ close(): Promise<void> }> = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((o) => o.close()));
  });

  function client(origin: string, credentials: Credentials): () => Promise<{ status: number; record: ReturnType<typeof newCallRecord> } | Error> {
    const pool = new Pool(origin, { connections: 20 });
    open.push(pool, credentials);
    const layers: Dispatcher.DispatcherComposeInterceptor[] = [attempt({ timeoutMs: LOOPBACK_BOUND_MS }), authenticate(credentials)];
    if (credentials.renew) layers.push(renewOnUnauthorized((version) => credentials.renew!(version)));
    const dispatcher = pool.compose(layers);
    return async () => {
      const record = newCallRecord();
      try {
        const response = await dispatcher.request({ method: 'GET', path: '/api/things', headers: { accept: 'application/json' }, opaque: record });
        await response.body.text();
        return { status: response.statusCode, record };
      } catch (error) {
        return error as Error;
      }
    };
  }

  it('sends an API key header on every attempt', async () => {
    const source = await startFakeSource(({ headers }) => ({ status: headers['x-api-key'] === 'k-123' ? 200 : 401 }));
    open.push(source);
    const auth = authDefinition.parse({ type: 'header', header: 'X-Api-Key', value: { env: 'API_KEY' } });
    const get = client(source.origin, credentialsFor('crm', auth, { origin: source.origin, env, timeoutMs: LOOPBACK_BOUND_MS, connectTimeoutMs: LOOPBACK_BOUND_MS })!);
    expect(await get()).toMatchObject({ status: 200 });
    expect(await get()).toMatchObject({ status: 200 });
  });

  it('fetches one OAuth token for all the calls that need it at once, and keeps it', async () => {
    const { source, tokenRequests } = await oauthSource();
    open.push(source);
    const get = client(source.origin, oauth(source));
    const outcomes = await Promise.all(Array.from({ length: 10 }, get));
    expect(outcomes.every((o) => !(o instanceof Error) && o.status === 200)).toBe(true);
    await get();
    expect(tokenRequests()).toBe(1);
  });

  it('renews a token renewBeforeExpiryMs before it expires', async () => {
    const { source, tokenRequests } = await oauthSource({ expiresIn: 2 });
    open.push(source);
    const clock = new ManualClock();
    const get = client(source.origin, oauth(source, 1_000, 'CLIENT_SECRET', clock));
    await get();
    clock.advance(999);
    await get();
    expect(tokenRequests()).toBe(1);
    clock.advance(1);
    expect(await get()).toMatchObject({ status: 200 });
    expect(tokenRequests()).toBe(2);
  });

  it('on a 401 renews the token once and repeats the call; concurrent refusals of one token renew it once', async () => {
    const { source, revoke, tokenRequests } = await oauthSource();
    open.push(source);
    const get = client(source.origin, oauth(source));
    await get();
    revoke();
    const outcomes = await Promise.all(Array.from({ length: 5 }, get));
    expect(outcomes.every((o) => !(o instanceof Error) && o.status === 200 && o.record.attempts === 2)).toBe(true);
    expect(tokenRequests()).toBe(2);
  });

  it('hands a second 401 on: one renewal per call, no loop', async () => {
    const { source, tokenRequests } = await oauthSource({ refuseAll: true });
    open.push(source);
    const get = client(source.origin, oauth(source));
    const outcome = await get();
    expect(outcome).toMatchObject({ statusCode: 401 });
    expect(source.count('/oauth')).toBe(2);
    expect(tokenRequests()).toBe(2);
  });

  it('fails without calling the API when the token endpoint refuses, naming the secret variable and never its value', async () => {
    const { source } = await oauthSource();
    open.push(source);
    const wrong = credentialsFor(
      'support',
      authDefinition.parse({ type: 'oauth2ClientCredentials', tokenUrl: `${source.origin}/oauth/token`, clientId: 'gateway', clientSecret: { env: 'WRONG_SECRET' } }),
      { origin: source.origin, env: { WRONG_SECRET: 'nope-nope' }, timeoutMs: LOOPBACK_BOUND_MS, connectTimeoutMs: LOOPBACK_BOUND_MS },
    )!;
    const outcome = await client(source.origin, wrong)();
    expect(outcome).toBeInstanceOf(TokenRequestError);
    expect((outcome as TokenRequestError).kind).toBe('refused');
    expect((outcome as Error).message).toBe('the token endpoint of source support refused the client credentials (401); check the client id and WRONG_SECRET');
    expect((outcome as Error).message).not.toContain('nope-nope');
    expect(source.count('/oauth')).toBe(0);
  });
});
