/**
 * Upstream credentials stay the gateway's: a source is called with its own configured
 * credentials and never with anything the client sent, unless its definition says to forward the
 * caller's token (`forwardCaller`); then its cached answers are kept per caller, and a caller
 * without a token is refused before any call rather than served with the gateway's rights.
 */
import { SignJWT } from 'jose';
import { UpstreamCache } from '../../src/cache/upstream-cache';
import { sourceDefinition, type SourceDefinitionInput } from '../../src/config/definition';
import { validateConfig } from '../../src/config/validate';
import type { CallerCredential } from '../../src/connectors/caller-credential';
import { SourceConnector } from '../../src/connectors/source-connector';
import { isVirtualizeError } from '../../src/errors';
import { sandboxDataset } from '../../sources/sandbox';
import { SANDBOX_CREDENTIALS } from '../../sources/sandbox/auth';
import baseConfig from '../../virtualization.config';
import { startFakeSource, type FakeSource } from '../support/fake-source';
import { DEMO_KEY, startHarness, type Harness } from '../support/harness';

const CLIENT_SECRETS = { bearer: 'client-bearer-7f3a9c', apiKey: 'client-api-key-51d2e8', cookie: 'client-session-c0ffee' };

describe('a client\'s credentials never reach a source', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h?.close());

  it('calls each sandbox with its own credentials only, whatever the client sent (a bearer token: below)', async () => {
    h.resetUpstream();
    // The client's own credential (the demo key, in each of its forms), a cookie and headers of its
    // own: none of it may reach a source.
    for (const credential of [{ 'x-api-key': DEMO_KEY }, { authorization: `ApiKey ${DEMO_KEY}` }] as Array<Record<string, string>>) {
      const answer = await h.query<{ customers: { nodes: Array<{ orders: unknown[]; tickets: unknown[] }> } }>(
        '{ customers(first: 3) { nodes { id orders { id } tickets { id } } } }',
        undefined,
        { ...credential, cookie: `session=${CLIENT_SECRETS.cookie}`, 'x-client-token': `Bearer ${CLIENT_SECRETS.bearer}`, 'x-client-key': CLIENT_SECRETS.apiKey },
      );
      expect(answer.errors).toBeUndefined();
    }
    for (const system of ['crm', 'orders', 'support'] as const) {
      const received = h.sandboxes[system].receivedHeaders();
      expect(received.length).toBeGreaterThan(0);
      const seen = JSON.stringify(received);
      for (const secret of [...Object.values(CLIENT_SECRETS), DEMO_KEY]) expect(`${system}: ${seen.includes(secret)}`).toBe(`${system}: false`);
      // The sandboxes answered, so each call carried the credentials of the system's own auth.
      expect(received.every((headers) => headers.cookie === undefined)).toBe(true);
    }
    // The CRM takes an API key in x-api-key, as the client did: the one it got is the gateway's.
    expect(new Set(h.sandboxes.crm.receivedHeaders().map((headers) => headers['x-api-key']))).toEqual(new Set([SANDBOX_CREDENTIALS.crm.apiKey]));
  });
});

/** A source whose answer says which token asked: `{ items: [{ id, askedBy }] }`. */
function forwardingDefinition(baseUrl: string, forwardCaller?: SourceDefinitionInput['forwardCaller']): SourceDefinitionInput {
  return {
    baseUrl,
    ...(forwardCaller ? { forwardCaller } : {}),
    entities: {
      Thing: {
        key: 'id',
        fields: { id: { from: 'id', transform: 'id' }, askedBy: 'askedBy' },
        lookups: { id: { path: '/things', query: { ids: '{values}' }, resultPath: 'items', unique: true, batch: { maxSize: 50 } } },
      },
    },
  };
}

describe('forwarding the caller to a source (forwardCaller)', () => {
  let source: FakeSource;
  const cacheConfig = { enabled: true, maxBytes: 1_000_000, ttlMs: 60_000, staleWhileRevalidateMs: 0, staleIfErrorMs: 0 };
  const alice: CallerCredential = { subject: 'jwt:https://id.example.com#alice', token: 'token-of-alice' };
  const bob: CallerCredential = { subject: 'jwt:https://id.example.com#bob', token: 'token-of-bob' };

  beforeAll(async () => {
    source = await startFakeSource((request) => {
      const ids = (new URL(request.path, 'http://x').searchParams.get('ids') ?? '').split(',');
      const askedBy = request.headers['x-user-token'] ?? request.headers.authorization ?? 'nobody';
      return { body: JSON.stringify({ items: ids.map((id) => ({ id, askedBy })) }) };
    });
  });
  afterAll(() => source?.close());
  beforeEach(() => source.requests.splice(0));

  const askedBy = (answer: Map<string, unknown>, id: string) => (answer.get(id) as Array<{ askedBy: string }>)[0]!.askedBy;

  it('is off by default: the caller\'s token is not sent, and callers share the cache', async () => {
    const connector = new SourceConnector('things', sourceDefinition.parse(forwardingDefinition(source.origin)));
    const cache = new UpstreamCache(cacheConfig);
    try {
      expect(askedBy(await cache.lookup(connector, 'Thing', 'id', ['1'], undefined, 'none', alice), '1')).toBe('nobody');
      expect(askedBy(await cache.lookup(connector, 'Thing', 'id', ['1'], undefined, 'none', bob), '1')).toBe('nobody');
      expect(source.count()).toBe(1);
      expect(source.requests[0]!.headers.authorization).toBeUndefined();
    } finally {
      await cache.close();
      await connector.close();
    }
  });

  it('when declared, sends each caller\'s token and keeps the cache per caller: two subjects two calls, the same subject twice one', async () => {
    const connector = new SourceConnector('things', sourceDefinition.parse(forwardingDefinition(source.origin, {})));
    const cache = new UpstreamCache(cacheConfig);
    try {
      expect(askedBy(await cache.lookup(connector, 'Thing', 'id', ['1'], undefined, 'none', alice), '1')).toBe('Bearer token-of-alice');
      expect(askedBy(await cache.lookup(connector, 'Thing', 'id', ['1'], undefined, 'none', bob), '1')).toBe('Bearer token-of-bob');
      expect(source.count()).toBe(2);
      // Alice again, with a token renewed since: her own cached answer, no call.
      expect(askedBy(await cache.lookup(connector, 'Thing', 'id', ['1'], undefined, 'none', { ...alice, token: 'renewed' }), '1')).toBe('Bearer token-of-alice');
      expect(source.count()).toBe(2);
      expect(source.requests.map((request) => request.headers.authorization)).toEqual(['Bearer token-of-alice', 'Bearer token-of-bob']);
    } finally {
      await cache.close();
      await connector.close();
    }
  });

  it('sends the token as it came in another header when told, beside the source\'s own credentials', async () => {
    const definition = { ...forwardingDefinition(source.origin, { header: 'X-User-Token' }), auth: { type: 'bearer' as const, token: { env: 'THINGS_TOKEN' } } };
    const connector = new SourceConnector('things', sourceDefinition.parse(definition), { env: { THINGS_TOKEN: 'gateway-own-token' } });
    try {
      const answer = await connector.lookup('Thing', 'id', ['2'], undefined, 'none', undefined, alice);
      expect(askedBy(answer, '2')).toBe('token-of-alice');
      expect(source.requests[0]!.headers.authorization).toBe('Bearer gateway-own-token');
    } finally {
      await connector.close();
    }
  });

  it('refuses a caller without a token before any call, with a code that says what to send', async () => {
    const connector = new SourceConnector('things', sourceDefinition.parse(forwardingDefinition(source.origin, {})));
    const cache = new UpstreamCache(cacheConfig);
    try {
      for (const caller of [{ subject: 'key:vz_abc', token: undefined }, undefined]) {
        const failure = (await cache.lookup(connector, 'Thing', 'id', ['1', '2'], undefined, 'none', caller)).get('1');
        expect(isVirtualizeError(failure) && failure.code).toBe('SOURCE_CALLER_TOKEN_REQUIRED');
        expect(isVirtualizeError(failure) && failure.data).toEqual({ source: 'things', route: 'GET /things' });
      }
      expect(source.count()).toBe(0);
    } finally {
      await cache.close();
      await connector.close();
    }
  });

  it('is refused in a definition where it would take the place of the source\'s own credentials', () => {
    const input = structuredClone(baseConfig);
    input.sources.crm!.forwardCaller = { header: 'x-api-key' };
    input.sources.support!.forwardCaller = {};
    const problems = (() => {
      try {
        validateConfig(input);
        return [];
      } catch (error) {
        return String((error as Error).message);
      }
    })();
    expect(problems).toContain('sources.crm.forwardCaller.header');
    expect(problems).toContain('sources.support.forwardCaller.header');
    expect(problems).toContain('x-user-token');
  });
});

describe('forwarding through the gateway: a JWT caller and a source that declares forwardCaller', () => {
  const SECRET = 'a-shared-secret-for-the-test-issuer-0123456789';
  const ISSUER = 'https://id.example.test';
  const ALL = 'customers:read orders:read tickets:read pii:read billing:read';
  let h: Harness;
  let customerId: string;

  const tokenOf = (subject: string) =>
    new SignJWT({ scope: ALL }).setProtectedHeader({ alg: 'HS256' }).setIssuer(ISSUER).setAudience('virtualize').setSubject(subject).setIssuedAt().setExpirationTime('10m').sign(new TextEncoder().encode(SECRET));
  const supportCalls = () => Object.values(h.upstream().support).reduce((a, b) => a + b, 0);
  const ask = (headers: Record<string, string>) =>
    h.query<{ customer: { name: string; tickets: Array<{ id: string }> | null } }>('query ($id: ID!) { customer(id: $id) { name tickets { id } } }', { id: customerId }, headers);

  beforeAll(async () => {
    h = await startHarness({
      cache: true,
      env: { TEST_JWT_SECRET: SECRET },
      configure: (config) => {
        config.auth = { ...config.auth, jwt: { issuers: [{ issuer: ISSUER, audience: 'virtualize', secret: { env: 'TEST_JWT_SECRET' }, algorithms: ['HS256'] }] } };
        // The support desk authenticates the gateway with OAuth (authorization); the caller's token goes beside it.
        config.sources.support!.forwardCaller = { header: 'x-user-token' };
        return config;
      },
    });
    customerId = sandboxDataset().crm.contacts[0]!.Id;
  });
  afterAll(() => h?.close());

  it('sends each caller its own token, keeps the source\'s answers per subject (two subjects two calls, the same subject twice one), and no other source sees the token', async () => {
    const alice = await tokenOf('alice');
    const bob = await tokenOf('bob');
    h.resetUpstream();
    for (let i = 0; i < 4; i += 1) {
      const answer = await ask({ authorization: `Bearer ${alice}` });
      expect(answer.errors).toBeUndefined();
      expect(answer.data?.customer.tickets).not.toBeNull();
    }
    // Asked four times (the response tier admits an answer asked three times a minute): one call.
    expect(supportCalls()).toBe(1);
    const bobs = await ask({ authorization: `Bearer ${bob}` });
    expect(bobs.errors).toBeUndefined();
    // Bob shares neither Alice's upstream-cache entry nor her whole answer: his own call.
    expect(supportCalls()).toBe(2);
    expect(h.sandboxes.support.receivedHeaders().map((headers) => headers['x-user-token'])).toEqual([alice, bob]);
    for (const system of ['crm', 'orders'] as const) {
      const seen = JSON.stringify(h.sandboxes[system].receivedHeaders());
      expect(`${system}: ${seen.includes(alice) || seen.includes(bob)}`).toBe(`${system}: false`);
    }
  });

  it('answers a caller with an API key SOURCE_CALLER_TOKEN_REQUIRED on that source\'s fields, with no call to it', async () => {
    h.resetUpstream();
    const answer = await ask({});
    expect(answer.data?.customer.name).toEqual(expect.any(String));
    expect(answer.data?.customer.tickets).toBeNull();
    expect(answer.errors?.map((error) => error.extensions?.code)).toEqual(['SOURCE_CALLER_TOKEN_REQUIRED']);
    expect(supportCalls()).toBe(0);
  });
});
