/**
 * JWT bearer tokens: the verifier against an issuer whose JWKS a test server serves on the
 * loopback (counting its fetches), on a manual clock; configured public keys and shared secrets;
 * and the refusals, each with its reason and none repeating the token.
 */
import { exportSPKI, SignJWT, UnsecuredJWT } from 'jose';
import { jwtIssuerDefinition, type JwtIssuerDefinition } from '../../src/config/definition/client-auth';
import { createJwtVerifier, type JwtVerifierDeps } from '../../src/auth/jwt-verifier';
import type { BearerVerifier } from '../../src/auth/caller';
import { isVirtualizeError } from '../../src/errors';
import { startHarness, type Harness } from '../support/harness';
import { ManualClock } from '../support/manual-clock';
import { signingKey, startJwksServer, tokenFor, type JwksServer, type SigningKey } from '../support/jwks-server';

const ISSUER = 'https://login.example.com/';
const AUDIENCE = 'virtualize';

function issuer(overrides: Record<string, unknown>): JwtIssuerDefinition {
  return jwtIssuerDefinition.parse({ issuer: ISSUER, audience: AUDIENCE, algorithms: ['RS256'], ...overrides });
}

/** What the verifier refused with: code, reason, status, message, headers. */
async function refusal(verifier: BearerVerifier, token: string) {
  try {
    await verifier.verify(token);
  } catch (error) {
    if (!isVirtualizeError(error)) throw error;
    // No refusal repeats the token, nor any of its three parts.
    for (const part of [token, ...token.split('.')].filter((piece) => piece.length > 8)) expect(error.message).not.toContain(part);
    return { code: error.code, reason: error.data.reason, status: error.httpStatus, message: error.message, headers: error.headers ?? {} };
  }
  throw new Error('the token was accepted');
}

describe('JWT bearer tokens against a JWKS on the loopback', () => {
  let first: SigningKey;
  let second: SigningKey;
  let jwks: JwksServer;
  let clock: ManualClock;
  let verifier: BearerVerifier;
  const now = () => Math.floor(clock.wallNow() / 1000);
  const claims = (extra: Record<string, unknown> = {}) => ({ iss: ISSUER, aud: AUDIENCE, sub: 'analyst-7', scope: 'customers:read orders:read', ...extra });

  beforeAll(async () => {
    [first, second] = await Promise.all([signingKey('key-1'), signingKey('key-2')]);
  });

  beforeEach(async () => {
    jwks = await startJwksServer([first]);
    clock = new ManualClock();
    verifier = createJwtVerifier([issuer({ jwksUrl: jwks.url, jwksCooldownMs: 30_000, jwksRefreshMs: 600_000, tenantClaim: 'org.id' })], { env: {}, clock });
  });

  afterEach(async () => {
    verifier.close();
    await jwks.close();
  });

  it('accepts a valid token and names its caller: subject, issuer, tenant, scopes from `scope`', async () => {
    const caller = await verifier.verify(await tokenFor(first, claims({ org: { id: 'acme' } }), now()));
    expect(caller).toMatchObject({ kind: 'jwt', clientId: `jwt:${ISSUER}#analyst-7`, subject: 'analyst-7', issuer: ISSUER, tenant: 'acme', keyId: undefined });
    expect([...caller.scopes].sort()).toEqual(['customers:read', 'orders:read']);
    expect(caller.claims.sub).toBe('analyst-7');
    // Fetched once, then held.
    await verifier.verify(await tokenFor(first, claims(), now()));
    expect(jwks.fetches()).toBe(1);
  });

  it('reads scopes from `scp` as an array too', async () => {
    const caller = await verifier.verify(await tokenFor(first, claims({ scope: undefined, scp: ['tickets:read', 'pii:read'] }), now()));
    expect([...caller.scopes].sort()).toEqual(['pii:read', 'tickets:read']);
  });

  it('refuses an expired token past the leeway, and accepts one within it', async () => {
    const token = await tokenFor(first, claims(), now(), 60);
    // 60 s of life, then 59 s of the 60 s leeway: still accepted.
    clock.advance(119_000);
    await expect(verifier.verify(token)).resolves.toMatchObject({ subject: 'analyst-7' });
    clock.advance(2_000);
    expect(await refusal(verifier, token)).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'expired', status: 401 });
  });

  it('refuses a token not valid yet (nbf beyond the leeway)', async () => {
    const early = await tokenFor(first, claims({ nbf: now() + 61 }), now());
    expect(await refusal(verifier, early)).toMatchObject({ reason: 'not_yet_valid' });
    const withinLeeway = await tokenFor(first, claims({ nbf: now() + 59 }), now());
    await expect(verifier.verify(withinLeeway)).resolves.toMatchObject({ subject: 'analyst-7' });
  });

  it('refuses a forged signature and a tampered payload', async () => {
    const impostor = await signingKey('key-1');
    const forged = await tokenFor(impostor, claims(), now());
    expect(await refusal(verifier, forged)).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'bad_signature' });
    const [header, , signature] = (await tokenFor(first, claims(), now())).split('.');
    const escalated = Buffer.from(JSON.stringify({ ...claims({ scope: 'customers:read pii:read' }), iat: now(), exp: now() + 300 })).toString('base64url');
    expect(await refusal(verifier, `${header}.${escalated}.${signature}`)).toMatchObject({ reason: 'bad_signature' });
  });

  it('refuses alg none and an HS256 token keyed with the public key, without fetching the JWKS', async () => {
    const unsigned = new UnsecuredJWT(claims()).setIssuedAt(now()).setExpirationTime(now() + 300).encode();
    expect(await refusal(verifier, unsigned)).toMatchObject({ reason: 'algorithm_not_allowed' });
    const publicPem = await exportSPKI(first.publicKey);
    const confused = await new SignJWT(claims())
      .setProtectedHeader({ alg: 'HS256', kid: first.kid })
      .setIssuedAt(now())
      .setExpirationTime(now() + 300)
      .sign(new TextEncoder().encode(publicPem));
    expect(await refusal(verifier, confused)).toMatchObject({ reason: 'algorithm_not_allowed' });
    expect(jwks.fetches()).toBe(0);
  });

  it('refuses a wrong iss, a token without one, and a wrong aud', async () => {
    expect(await refusal(verifier, await tokenFor(first, claims({ iss: 'https://evil.example.com/' }), now()))).toMatchObject({ reason: 'unknown_issuer' });
    expect(await refusal(verifier, await tokenFor(first, claims({ iss: undefined }), now()))).toMatchObject({ reason: 'unknown_issuer' });
    const wrongAudience = await refusal(verifier, await tokenFor(first, claims({ aud: 'another-api' }), now()));
    expect(wrongAudience).toMatchObject({ reason: 'wrong_audience' });
    expect(wrongAudience.message).toContain(AUDIENCE);
    expect(await refusal(verifier, await tokenFor(first, claims({ aud: undefined }), now()))).toMatchObject({ reason: 'missing_claim' });
    expect(await refusal(verifier, await tokenFor(first, claims({ sub: undefined }), now()))).toMatchObject({ reason: 'missing_claim' });
  });

  it('refuses a malformed token and says so, with the challenge RFC 6750 asks for', async () => {
    const answer = await refusal(verifier, 'not.a-jwt-at-all.really');
    expect(answer).toMatchObject({ reason: 'malformed_token' });
    expect(answer.headers['www-authenticate']).toBe('Bearer realm="virtualize", error="invalid_token", error_description="malformed_token"');
    expect(await refusal(verifier, 'x'.repeat(20_000))).toMatchObject({ reason: 'token_too_large' });
  });

  it('refuses an unknown kid after exactly one refetch', async () => {
    await verifier.verify(await tokenFor(first, claims(), now()));
    expect(jwks.fetches()).toBe(1);
    clock.advance(30_000);
    const stranger = { kid: 'key-unknown', privateKey: second.privateKey };
    expect(await refusal(verifier, await tokenFor(stranger, claims(), now()))).toMatchObject({ reason: 'unknown_key' });
    expect(jwks.fetches()).toBe(2);
  });

  it('follows a key rotation after exactly one refetch', async () => {
    await verifier.verify(await tokenFor(first, claims(), now()));
    jwks.serve([first, second]);
    clock.advance(30_000);
    const rotated = await tokenFor(second, claims(), now());
    await expect(verifier.verify(rotated)).resolves.toMatchObject({ subject: 'analyst-7' });
    expect(jwks.fetches()).toBe(2);
    // Both keys are held now: neither costs a fetch.
    await verifier.verify(rotated);
    await verifier.verify(await tokenFor(first, claims(), now()));
    expect(jwks.fetches()).toBe(2);
  });

  it('bounds refetches by the cooldown under a flood of unknown kids', async () => {
    await verifier.verify(await tokenFor(first, claims(), now()));
    clock.advance(30_000);
    // Key ids the issuer never published (the signing key does not matter: no key is found to check it with).
    const strangers = Array.from({ length: 40 }, (_, index) => ({ kid: `made-up-${index}`, privateKey: second.privateKey }));
    const tokens = await Promise.all(strangers.map((stranger) => tokenFor(stranger, claims(), now())));
    // Together: one refetch, which all of them wait for.
    const answers = await Promise.all(tokens.map((token) => refusal(verifier, token)));
    expect(answers.every((answer) => answer.reason === 'unknown_key')).toBe(true);
    expect(jwks.fetches()).toBe(2);
    // One after another within the cooldown: none.
    for (const token of tokens.slice(0, 10)) await refusal(verifier, token);
    clock.advance(29_999);
    await refusal(verifier, tokens[0]!);
    expect(jwks.fetches()).toBe(2);
    // Once the cooldown is over: one more.
    clock.advance(1);
    await refusal(verifier, tokens[0]!);
    await refusal(verifier, tokens[1]!);
    expect(jwks.fetches()).toBe(3);
  });

  it('fetches the keys again once they are older than jwksRefreshMs', async () => {
    await verifier.verify(await tokenFor(first, claims(), now()));
    clock.advance(599_999);
    await verifier.verify(await tokenFor(first, claims(), now()));
    expect(jwks.fetches()).toBe(1);
    clock.advance(1);
    await verifier.verify(await tokenFor(first, claims(), now()));
    expect(jwks.fetches()).toBe(2);
  });

  it('answers AUTHENTICATION_UNAVAILABLE when the keys cannot be fetched, and keeps keys it holds when a refresh fails', async () => {
    jwks.behave('fail');
    const token = await tokenFor(first, claims(), now());
    expect(await refusal(verifier, token)).toMatchObject({ code: 'AUTHENTICATION_UNAVAILABLE', status: 503, headers: { 'retry-after': '30' } });
    // Within the cooldown the failed fetch is not repeated for every token.
    await refusal(verifier, token);
    expect(jwks.fetches()).toBe(1);
    clock.advance(30_000);
    jwks.behave('serve');
    await expect(verifier.verify(token)).resolves.toMatchObject({ subject: 'analyst-7' });
    jwks.behave('fail');
    clock.advance(600_000);
    await expect(verifier.verify(await tokenFor(first, claims(), now()))).resolves.toMatchObject({ subject: 'analyst-7' });
    expect(jwks.fetches()).toBe(3);
  });

  it('reads a JWKS answer only up to its bound', async () => {
    jwks.behave('huge');
    expect(await refusal(verifier, await tokenFor(first, claims(), now()))).toMatchObject({ code: 'AUTHENTICATION_UNAVAILABLE' });
  });

  it('gives up on a JWKS that does not answer within jwksTimeoutMs', async () => {
    const impatient = createJwtVerifier([issuer({ jwksUrl: jwks.url, jwksTimeoutMs: 50 })], { env: {}, clock });
    jwks.behave('hang');
    try {
      expect(await refusal(impatient, await tokenFor(first, claims(), now()))).toMatchObject({ code: 'AUTHENTICATION_UNAVAILABLE' });
    } finally {
      impatient.close();
    }
  });
});

describe('JWT issuers with a configured key', () => {
  const clock = new ManualClock();
  const now = () => Math.floor(clock.wallNow() / 1000);
  const deps = (env: NodeJS.ProcessEnv): JwtVerifierDeps => ({ env, clock });
  const claims = { iss: ISSUER, aud: [AUDIENCE, 'other'], sub: 'svc-1', roles: { granted: ['billing:read'] } };

  it('verifies with a public key given as PEM by env reference, newlines escaped or not', async () => {
    const key = await signingKey('pem', 'ES256');
    const pem = await exportSPKI(key.publicKey);
    for (const value of [pem, pem.replaceAll('\n', '\\n')]) {
      const verifier = createJwtVerifier([issuer({ publicKey: { env: 'JWT_PUBLIC_KEY' }, algorithms: ['ES256'], scopesClaim: 'roles.granted' })], deps({ JWT_PUBLIC_KEY: value }));
      const caller = await verifier.verify(await tokenFor(key, claims, now(), 300, 'ES256'));
      expect([...caller.scopes]).toEqual(['billing:read']);
      verifier.close();
    }
  });

  it('verifies with a public key given as a JWK', async () => {
    const [key, other] = await Promise.all([signingKey('jwk', 'ES256'), signingKey('jwk', 'ES256')]);
    const verifier = createJwtVerifier([issuer({ publicKey: { env: 'JWT_JWK' }, algorithms: ['ES256'] })], deps({ JWT_JWK: JSON.stringify(key.jwk) }));
    await expect(verifier.verify(await tokenFor(key, claims, now(), 300, 'ES256'))).resolves.toMatchObject({ clientId: `jwt:${ISSUER}#svc-1` });
    expect(await refusal(verifier, await tokenFor(other, claims, now(), 300, 'ES256'))).toMatchObject({ reason: 'bad_signature' });
  });

  it('verifies HS256 with a shared secret, and refuses a token signed with another', async () => {
    const secret = 's3cret-that-is-long-enough-for-hs256-0123456789';
    const verifier = createJwtVerifier([issuer({ secret: { env: 'JWT_SECRET' }, algorithms: ['HS256'] })], deps({ JWT_SECRET: secret }));
    const sign = (key: string) => new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuedAt(now()).setExpirationTime(now() + 60).sign(new TextEncoder().encode(key));
    await expect(verifier.verify(await sign(secret))).resolves.toMatchObject({ subject: 'svc-1' });
    expect(await refusal(verifier, await sign(`${secret}!`))).toMatchObject({ reason: 'bad_signature' });
  });

  it('picks the issuer by iss and verifies against that issuer alone', async () => {
    const [a, b] = await Promise.all([signingKey('a', 'ES256'), signingKey('b', 'ES256')]);
    const verifier = createJwtVerifier(
      [issuer({ issuer: 'https://a.example.com/', publicKey: { env: 'A_KEY' }, algorithms: ['ES256'] }), issuer({ issuer: 'https://b.example.com/', publicKey: { env: 'B_KEY' }, algorithms: ['ES256'] })],
      deps({ A_KEY: JSON.stringify(a.jwk), B_KEY: JSON.stringify(b.jwk) }),
    );
    await expect(verifier.verify(await tokenFor(b, { ...claims, iss: 'https://b.example.com/' }, now(), 300, 'ES256'))).resolves.toMatchObject({ issuer: 'https://b.example.com/' });
    // Signed by a's key, claiming to come from b.
    expect(await refusal(verifier, await tokenFor(a, { ...claims, iss: 'https://b.example.com/' }, now(), 300, 'ES256'))).toMatchObject({ reason: 'bad_signature' });
  });

  it('refuses to start with a key that cannot verify its tokens, and says why', async () => {
    const ec = await signingKey('ec', 'ES256');
    const start = (overrides: Record<string, unknown>, env: NodeJS.ProcessEnv) => () => createJwtVerifier([issuer(overrides)], deps(env));
    expect(start({ secret: { env: 'S' }, algorithms: ['HS256'] }, { S: 'short' })).toThrow(/auth\.jwt\.issuers\[0\]\.secret: the shared secret is 5 bytes; HS256 needs at least 32/);
    expect(start({ publicKey: { env: 'K' } }, { K: JSON.stringify(ec.jwk) })).toThrow(/a key of type ec cannot verify RS256/);
    expect(start({ publicKey: { env: 'K' }, algorithms: ['ES384'] }, { K: JSON.stringify(ec.jwk) })).toThrow(/ES384 needs a key on curve secp384r1/);
    expect(start({ publicKey: { env: 'K' } }, { K: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----' })).toThrow(/private key/);
    expect(start({ publicKey: { env: 'K' } }, { K: JSON.stringify({ kty: 'oct', k: 'abc' }) })).toThrow(/shared secret/);
    expect(start({ publicKey: { env: 'K' } }, {})).toThrow(/K is not set/);
    expect(start({ jwksUrl: 'http://login.example.com/jwks' }, {})).toThrow(/must be https/);
    expect(() => createJwtVerifier([issuer({ publicKey: { env: 'K' }, algorithms: ['ES256'] }), issuer({ publicKey: { env: 'K' }, algorithms: ['ES256'] })], deps({ K: JSON.stringify(ec.jwk) }))).toThrow(/declared twice/);
    // The configuration itself refuses an HS* algorithm beside a JWKS or a public key, and `none`.
    expect(jwtIssuerDefinition.safeParse({ issuer: ISSUER, audience: AUDIENCE, jwksUrl: 'https://x/jwks', algorithms: ['HS256'] }).success).toBe(false);
    expect(jwtIssuerDefinition.safeParse({ issuer: ISSUER, audience: AUDIENCE, jwksUrl: 'https://x/jwks', algorithms: ['none'] }).success).toBe(false);
  });
});

describe('JWT bearer tokens at a real gateway, the sandboxes counting every call', () => {
  let harness: Harness;
  let jwks: JwksServer;
  let current: SigningKey;
  let rotated: SigningKey;
  const clock = new ManualClock();
  const now = () => Math.floor(clock.wallNow() / 1000);
  const CUSTOMERS = '{ customers(first: 2) { nodes { id name } } }';
  const claims = (extra: Record<string, unknown> = {}) => ({ iss: ISSUER, aud: AUDIENCE, sub: 'dashboard-1', scope: 'customers:read', ...extra });
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  /** The answer to a query sent with `headers`, and the upstream calls it cost. */
  const ask = async (query: string, headers: Record<string, string>) => {
    harness.resetUpstream();
    const answer = await harness.query(query, undefined, headers);
    return { ...answer, upstream: harness.upstream().total };
  };

  beforeAll(async () => {
    [current, rotated] = await Promise.all([signingKey('current'), signingKey('rotated')]);
    jwks = await startJwksServer([current]);
    harness = await startHarness({
      clock,
      configure: (config) => ({
        ...config,
        auth: { ...config.auth, jwt: { issuers: [{ issuer: ISSUER, audience: AUDIENCE, jwksUrl: jwks.url, algorithms: ['RS256'], cookie: 'vz_session', jwksCooldownMs: 30_000 }] } },
      }),
    });
  }, 60_000);

  afterAll(async () => {
    await harness?.close();
    await jwks?.close();
  });

  it('serves a valid token within its scopes, and refuses what its scopes do not reach before any call', async () => {
    const token = await tokenFor(current, claims(), now());
    const served = await ask(CUSTOMERS, bearer(token));
    expect(served.errors).toBeUndefined();
    expect((served.data as { customers: { nodes: unknown[] } }).customers.nodes).toHaveLength(2);
    expect(served.upstream).toBe(1);
    const tickets = await ask('{ customers(first: 1) { nodes { tickets { subject } } } }', bearer(token));
    expect(tickets.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(tickets.upstream).toBe(0);
  });

  it('refuses, with its reason and 0 upstream calls: expired, forged, alg none, HS256 keyed with the public key, wrong iss, wrong aud', async () => {
    const publicPem = await exportSPKI(current.publicKey);
    const impostor = await signingKey('current');
    const cases: Array<[string, Promise<string> | string]> = [
      ['expired', tokenFor(current, claims(), now() - 400, 300)],
      ['bad_signature', tokenFor(impostor, claims(), now())],
      ['algorithm_not_allowed', new UnsecuredJWT(claims()).setIssuedAt(now()).setExpirationTime(now() + 300).encode()],
      ['algorithm_not_allowed', new SignJWT(claims()).setProtectedHeader({ alg: 'HS256', kid: 'current' }).setIssuedAt(now()).setExpirationTime(now() + 300).sign(new TextEncoder().encode(publicPem))],
      ['unknown_issuer', tokenFor(current, claims({ iss: 'https://evil.example.com/' }), now())],
      ['wrong_audience', tokenFor(current, claims({ aud: 'someone-else' }), now())],
    ];
    for (const [reason, pending] of cases) {
      const answer = await ask(CUSTOMERS, bearer(await pending));
      expect({ reason, status: answer.status, code: answer.errors?.[0]?.extensions?.code, given: answer.errors?.[0]?.extensions?.reason, upstream: answer.upstream }).toEqual({ reason, status: 401, code: 'UNAUTHENTICATED', given: reason, upstream: 0 });
    }
    // Within the leeway an expired token still runs.
    expect((await ask(CUSTOMERS, bearer(await tokenFor(current, claims(), now() - 330, 300)))).errors).toBeUndefined();
  });

  it('refuses an unknown kid after one refetch, and follows a rotation after exactly one more', async () => {
    const before = jwks.fetches();
    clock.advance(30_000);
    const stranger = await ask(CUSTOMERS, bearer(await tokenFor({ kid: 'nobody', privateKey: rotated.privateKey }, claims(), now())));
    expect(stranger).toMatchObject({ status: 401, upstream: 0 });
    expect(stranger.errors?.[0]?.extensions?.reason).toBe('unknown_key');
    expect(jwks.fetches()).toBe(before + 1);
    jwks.serve([current, rotated]);
    clock.advance(30_000);
    const fresh = await ask(CUSTOMERS, bearer(await tokenFor(rotated, claims(), now())));
    expect(fresh.errors).toBeUndefined();
    expect(jwks.fetches()).toBe(before + 2);
  });

  it('reads the token from the issuer’s cookie', async () => {
    const answer = await ask(CUSTOMERS, { 'x-api-key': '', cookie: `theme=dark; vz_session=${await tokenFor(current, claims(), now())}` });
    expect(answer.errors).toBeUndefined();
    expect(answer.status).toBe(200);
  });
});
