/**
 * Client authentication of /graphql, as an attacker and as a client meet it: every attempt without
 * a credential the gateway knows is refused with 401 UNAUTHENTICATED and a WWW-Authenticate
 * challenge, before yoga reads the request and while the sandboxes count no call; the credentials
 * it knows are accepted in each header form; anonymous access exists only where it is declared.
 */
import { clientAuthDefinition } from '../../src/config/definition/client-auth';
import { Authenticator } from '../../src/auth/authenticator';
import type { BearerVerifier, Caller } from '../../src/auth/caller';
import { readCredential } from '../../src/auth/credentials';
import { CODES, VirtualizeError } from '../../src/errors';
import { DEMO_KEY, DEMO_LIMITED_KEY, startHarness, type Harness } from '../support/harness';

/** Asks for data from all three systems: an answer that got through would have called each. */
const QUERY = '{ customers(first: 2) { nodes { name email orders(first: 1) { id } tickets { id } } } }';

interface Answer {
  status: number;
  headers: Headers;
  body: { data?: unknown; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> };
}

async function post(h: Harness, headers: Record<string, string>, query = QUERY): Promise<Answer> {
  const response = await fetch(h.url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json', ...headers }, body: JSON.stringify({ query }) });
  return { status: response.status, headers: response.headers, body: (await response.json()) as Answer['body'] };
}

/** A refusal as the catalogue expects it: 401, the code, the challenge, nothing of what was sent, and no upstream call. */
function expectRefused(h: Harness, answer: Answer, message: RegExp, sent?: string): void {
  expect(answer.status).toBe(401);
  expect(answer.headers.get('www-authenticate')).toBe('ApiKey realm="virtualize"');
  // The body was never read: the connection cannot carry another request.
  expect(answer.headers.get('connection')).toBe('close');
  expect(answer.body.data).toBeUndefined();
  expect(answer.body.errors).toHaveLength(1);
  expect(answer.body.errors![0]!.extensions).toEqual({ code: CODES.UNAUTHENTICATED });
  expect(answer.body.errors![0]!.message).toMatch(message);
  if (sent !== undefined) expect(JSON.stringify(answer.body)).not.toContain(sent);
  expect(h.upstream().total).toBe(0);
}

describe('authentication of /graphql', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.close());
  beforeEach(() => h.resetUpstream());

  it('no credential: refused, saying what to send', async () => {
    expectRefused(h, await post(h, {}), /This gateway needs a credential\. Send an API key: "x-api-key: <key>" or "Authorization: ApiKey <key>"\./);
  });

  it('an unknown key: refused without repeating it', async () => {
    const guess = 'vz_guessedkey0_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
    expectRefused(h, await post(h, { 'x-api-key': guess }), /not one this gateway knows/, guess);
  });

  it('a key that differs from a real one in its last character: refused', async () => {
    const near = `${DEMO_KEY.slice(0, -1)}X`;
    expectRefused(h, await post(h, { 'x-api-key': near }), /not one this gateway knows/, near);
  });

  it('a malformed key (spaces, too long, empty), an empty ApiKey scheme, an unknown scheme, two credentials: refused', async () => {
    expectRefused(h, await post(h, { 'x-api-key': 'a key with spaces' }), /malformed/, 'a key with spaces');
    const long = 'k'.repeat(300);
    expectRefused(h, await post(h, { 'x-api-key': long }), /longer than 256 characters/, long);
    expectRefused(h, await post(h, { 'x-api-key': ' ' }), /x-api-key header is empty/);
    expectRefused(h, await post(h, { authorization: 'ApiKey' }), /needs the key after the scheme/);
    expectRefused(h, await post(h, { authorization: `Basic ${Buffer.from(`demo:${DEMO_KEY}`).toString('base64')}` }), /not one this gateway reads/, DEMO_KEY);
    expectRefused(h, await post(h, { 'x-api-key': DEMO_KEY, authorization: `ApiKey ${DEMO_KEY}` }), /both x-api-key and Authorization/, DEMO_KEY);
  });

  it('a bearer token when no issuer is configured: refused, the challenge naming API keys only', async () => {
    const token = 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJtYWxsb3J5In0.';
    expectRefused(h, await post(h, { authorization: `Bearer ${token}` }), /takes no bearer tokens \(no auth\.jwt\.issuers is configured\)/, token);
  });

  it('a GET query without a credential: refused like a POST', async () => {
    const response = await fetch(`${h.url}?query=${encodeURIComponent('{ customers(first: 1) { nodes { email } } }')}`, { headers: { accept: 'application/json' } });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('ApiKey realm="virtualize"');
    expect(((await response.json()) as Answer['body']).errors?.[0]?.extensions?.code).toBe(CODES.UNAUTHENTICATED);
    expect(h.upstream().total).toBe(0);
  });

  it('the GraphiQL page needs no credential (its queries carry one), and opens with the demo key in its headers', async () => {
    const page = await fetch(h.url, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('YogaGraphiQL');
    expect(html).toContain(DEMO_KEY);
    // A page load with a query in its URL still renders the page and runs nothing.
    const shared = await fetch(`${h.url}?query=${encodeURIComponent(QUERY)}`, { headers: { accept: 'text/html' } });
    expect(shared.status).toBe(200);
    expect(await shared.text()).toContain('YogaGraphiQL');
    expect(h.upstream().total).toBe(0);
  });

  it('accepts the key as x-api-key and as Authorization: ApiKey, and logs who asked, never the key', async () => {
    for (const headers of [{ 'x-api-key': DEMO_KEY }, { authorization: `ApiKey ${DEMO_KEY}` }, { authorization: `apikey   ${DEMO_KEY}` }] as Array<Record<string, string>>) {
      const answer = await post(h, headers);
      expect(answer.status).toBe(200);
      expect(answer.body.errors).toBeUndefined();
      expect(answer.body.data).toMatchObject({ customers: { nodes: [{ name: expect.any(String) }, { name: expect.any(String) }] } });
    }
    // The limited key has no tickets:read: it asks for what it may see.
    const limited = await post(h, { 'x-api-key': DEMO_LIMITED_KEY }, '{ customers(first: 2) { nodes { name email orders(first: 1) { id } } } }');
    expect(limited.status).toBe(200);
    expect(h.upstream().total).toBeGreaterThan(0);

    await h.logs.audit.when((lines) => lines.some((line) => (line.client as { keyId?: string } | undefined)?.keyId === 'demoLimited'));
    const audits = h.logs.audit.entries().map((line) => line.client as Record<string, unknown>);
    expect(audits).toContainEqual(expect.objectContaining({ id: 'key:demoLimited', kind: 'apiKey', subject: 'demoLimited', keyId: 'demoLimited', scopes: ['customers:read', 'orders:read'] }));
    expect(h.logs.app.entries().filter((line) => line.msg === 'operation').map((line) => line.client)).toContain('key:demoLimited');
    const logged = JSON.stringify([...h.logs.app.entries(), ...h.logs.audit.entries()]);
    expect(logged).not.toContain(DEMO_KEY);
    expect(logged).not.toContain(DEMO_LIMITED_KEY);
  });
});

describe('anonymous access, when the configuration declares it', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ configure: (config) => ({ ...config, auth: { ...config.auth, anonymous: { scopes: ['customers:read'] } } }) });
  });
  afterAll(() => h.close());
  beforeEach(() => h.resetUpstream());

  it('lets a caller without a credential in, one client per address, with the declared scopes', async () => {
    const answer = await post(h, {}, '{ customers(first: 1) { nodes { name } } }');
    expect(answer.status).toBe(200);
    expect(answer.body.errors).toBeUndefined();
    await h.logs.audit.when((lines) => lines.some((line) => (line.client as { kind?: string } | undefined)?.kind === 'anonymous'));
    const audit = h.logs.audit.entries().find((line) => (line.client as { kind?: string }).kind === 'anonymous')!.client as Record<string, unknown>;
    expect(audit).toMatchObject({ kind: 'anonymous', subject: null, scopes: ['customers:read'] });
    expect(audit.id).toBe(`anonymous:${String(audit.address)}`);
    expect(audit.address).toMatch(/127\.0\.0\.1$/);
  });

  it('still refuses a credential it does not know: a wrong key is never read as no key', async () => {
    expectRefused(h, await post(h, { 'x-api-key': 'not-a-key' }), /not one this gateway knows/, 'not-a-key');
    expectRefused(h, await post(h, { authorization: 'Bearer abc.def.ghi' }), /takes no bearer tokens/);
  });
});

describe('the Authenticator with a bearer verifier', () => {
  /** A verifier that accepts one token, as the JWT verifier would once it checked the signature. */
  const verifier = (accepted: string, seen: string[]): BearerVerifier => ({
    async verify(token) {
      seen.push(token);
      if (token !== accepted) throw new VirtualizeError(CODES.UNAUTHENTICATED, 'The token signature does not verify.');
      const caller: Caller = { kind: 'jwt', clientId: 'jwt:https://id.example.com#alice', subject: 'alice', tenant: 'acme', keyId: undefined, issuer: 'https://id.example.com', scopes: new Set(['orders:read']), claims: { sub: 'alice' } };
      return caller;
    },
    close: () => undefined,
  });
  const config = clientAuthDefinition.parse({
    jwt: { issuers: [{ issuer: 'https://id.example.com', audience: 'virtualize', jwksUrl: 'https://id.example.com/jwks', algorithms: ['RS256'], cookie: 'vz_session' }] },
  });

  it('hands the token from the header or the named cookie to the verifier, and challenges with Bearer when it refuses', async () => {
    const seen: string[] = [];
    const authenticator = new Authenticator({ config, env: {}, bearer: verifier('good.token.sig', seen) });
    expect(authenticator.challenge).toBe('ApiKey realm="virtualize", Bearer realm="virtualize"');
    await expect(authenticator.authenticate({ headers: { authorization: 'Bearer good.token.sig' }, address: '127.0.0.1' })).resolves.toMatchObject({ kind: 'jwt', subject: 'alice' });
    await expect(authenticator.authenticate({ headers: { cookie: 'theme=dark; vz_session=good.token.sig' }, address: '127.0.0.1' })).resolves.toMatchObject({ clientId: 'jwt:https://id.example.com#alice' });
    const refused = authenticator.authenticate({ headers: { authorization: 'Bearer forged.token.sig' }, address: '127.0.0.1' });
    await expect(refused).rejects.toMatchObject({ code: CODES.UNAUTHENTICATED, httpStatus: 401, headers: { 'www-authenticate': 'ApiKey realm="virtualize", Bearer realm="virtualize", error="invalid_token"' } });
    expect(seen).toEqual(['good.token.sig', 'good.token.sig', 'forged.token.sig']);
    // No credential: the message names both ways in.
    await expect(authenticator.authenticate({ headers: {}, address: '127.0.0.1' })).rejects.toThrow(/Send an API key .* or a token \("Authorization: Bearer <token>"\)/);
  });

  it('reads one credential per request: a cookie only when no header carries one', () => {
    expect(readCredential({ 'x-api-key': 'k1', cookie: 'vz_session=t' }, ['vz_session'])).toEqual({ kind: 'apiKey', key: 'k1', via: 'x-api-key' });
    expect(readCredential({ cookie: 'vz_session="quoted.token"' }, ['vz_session'])).toEqual({ kind: 'bearer', token: 'quoted.token', via: 'cookie' });
    expect(readCredential({ cookie: 'other=t' }, ['vz_session'])).toEqual({ kind: 'none' });
    expect(readCredential({ cookie: 'vz_session=t' }, [])).toEqual({ kind: 'none' });
    expect(readCredential({ 'x-api-key': 'a, b' }).kind).toBe('malformed');
  });
});
