/**
 * What a web page can make a visitor's browser do with the gateway, tried as the page would: a
 * cross-origin preflight, a read from an origin listed or not, a form post and a multipart post
 * (which browsers send to any origin without a preflight), a GET with no preflight-forcing
 * header. Each refusal carries its code, and the sandboxes count no call. Every answer carries the
 * security headers, and GraphiQL is not served in production unless configured on.
 */
import { CSRF_HEADERS, SECURITY_HEADERS } from '../../src/server/browser-defenses';
import { DEMO_HEADERS, startHarness, type Harness } from '../support/harness';

const LISTED = 'https://dashboards.example.com';
const ALSO_LISTED = 'https://apps.example.com';
const UNLISTED = 'https://evil.example.net';
const QUERY = '{ customers(first: 2) { nodes { id name } } }';

function accessControlHeaders(response: Response): Record<string, string> {
  return Object.fromEntries([...response.headers].filter(([name]) => name.startsWith('access-control-')));
}

function preflight(h: Harness, origin: string): Promise<Response> {
  return fetch(h.url, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, x-api-key' },
  });
}

function postFrom(h: Harness, origin: string): Promise<Response> {
  return fetch(h.url, { method: 'POST', headers: { origin, 'content-type': 'application/json', ...DEMO_HEADERS }, body: JSON.stringify({ query: QUERY }) });
}

async function codeOf(response: Response): Promise<unknown> {
  const body = (await response.json()) as { errors?: Array<{ extensions?: { code?: unknown } }> };
  return body.errors?.[0]?.extensions?.code;
}

describe('browser defenses, default configuration', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h?.close());
  beforeEach(() => h.resetUpstream());

  it('answers no cross-origin preflight and no cross-origin read: no origin is listed by default', async () => {
    const answer = await preflight(h, UNLISTED);
    expect(answer.status).toBe(204);
    expect(accessControlHeaders(answer)).toEqual({});

    const read = await postFrom(h, UNLISTED);
    expect(read.status).toBe(200);
    expect(accessControlHeaders(read)).toEqual({});
  });

  it('refuses a form-encoded POST before reading it, with or without a CSRF header, and calls no source', async () => {
    for (const headers of [{}, { 'x-graphql-yoga-csrf': '1' }] as Array<Record<string, string>>) {
      const answer = await fetch(h.url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
        body: new URLSearchParams({ query: QUERY }).toString(),
      });
      expect(answer.status).toBe(415);
      expect(await codeOf(answer)).toBe('UNSUPPORTED_MEDIA_TYPE');
    }
    expect(h.upstream().total).toBe(0);
  });

  it('refuses multipart and plain-text bodies, and calls no source', async () => {
    const form = new FormData();
    form.set('operations', JSON.stringify({ query: QUERY }));
    const multipart = await fetch(h.url, { method: 'POST', body: form });
    expect(multipart.headers.get('content-type')).toContain('application/json');
    expect(multipart.status).toBe(415);
    expect(await codeOf(multipart)).toBe('UNSUPPORTED_MEDIA_TYPE');

    const text = await fetch(h.url, { method: 'POST', headers: { 'content-type': 'text/plain;charset=UTF-8' }, body: JSON.stringify({ query: QUERY }) });
    expect(text.status).toBe(415);
    expect(await codeOf(text)).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect(h.upstream().total).toBe(0);
  });

  it('refuses a GET without a preflight-forcing header, and runs one that has one', async () => {
    const url = `${h.url}?query=${encodeURIComponent(QUERY)}`;
    // Authenticated in the Authorization form, which is no preflight-forcing header of the CSRF rule.
    const apiKey = { authorization: `ApiKey ${DEMO_HEADERS['x-api-key']}` };
    const bare = await fetch(url, { headers: { accept: 'application/json', ...apiKey } });
    expect(bare.status).toBe(403);
    expect(await codeOf(bare)).toBe('CSRF_HEADER_REQUIRED');
    expect(h.upstream().total).toBe(0);

    for (const header of CSRF_HEADERS) {
      const answer = await fetch(url, { headers: { accept: 'application/json', ...(header === 'x-api-key' ? { [header]: 'anything' } : { [header]: '1', ...apiKey }) } });
      // x-api-key forces the preflight; whether the key is good is authentication's business.
      if (header === 'x-api-key') expect(await codeOf(answer)).not.toBe('CSRF_HEADER_REQUIRED');
      else {
        expect(answer.status).toBe(200);
        expect(((await answer.json()) as { data: { customers: { nodes: unknown[] } } }).data.customers.nodes).toHaveLength(2);
      }
    }
  });

  it('puts the security headers on every answer, and no x-powered-by', async () => {
    const base = h.server.url;
    const answers = await Promise.all([
      fetch(h.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: QUERY }) }),
      fetch(h.url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'query=x' }),
      fetch(`${h.url}?query=${encodeURIComponent(QUERY)}`),
      fetch(`${base}/healthz`),
      fetch(`${base}/readyz`),
      fetch(`${base}/metrics`),
      fetch(`${base}/admin/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ status { version } }"}' }),
      fetch(`${base}/webhooks/crm`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }),
      fetch(`${base}/webhooks/nothing`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }),
      fetch(`${base}/`, { redirect: 'manual' }),
      fetch(`${base}/no-such-page`),
    ]);
    for (const answer of answers) {
      for (const [name, value] of Object.entries(SECURITY_HEADERS)) expect(`${answer.url} ${name}: ${answer.headers.get(name)}`).toBe(`${answer.url} ${name}: ${value}`);
      expect(answer.headers.get('x-powered-by')).toBeNull();
      await answer.arrayBuffer();
    }
  });

  it('serves GraphiQL with a policy of its own: no framing, its inline scripts by hash, requests to this origin only', async () => {
    const page = await fetch(h.url, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    const policy = page.headers.get('content-security-policy') ?? '';
    expect(policy).toContain("frame-ancestors 'none'");
    expect(policy).toContain("connect-src 'self'");
    expect(policy).toMatch(/script-src 'sha256-[A-Za-z0-9+/=]+' 'sha256-[A-Za-z0-9+/=]+' blob:/);
    expect(policy).not.toContain('unsafe-eval');
    expect(policy).not.toMatch(/script-src[^;]*unsafe-inline/);
    await page.arrayBuffer();
  });
});

describe('browser defenses, listed origins', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      configure: (config) => ({ ...config, auth: { ...config.auth, cors: { origins: [LISTED, ALSO_LISTED], credentials: true } } }),
    });
  });
  afterAll(() => h?.close());
  beforeEach(() => h.resetUpstream());

  it('answers the preflight of a listed origin with that origin alone, and credentials as configured', async () => {
    const answer = await preflight(h, LISTED);
    expect(answer.status).toBe(204);
    expect(accessControlHeaders(answer)).toMatchObject({
      'access-control-allow-origin': LISTED,
      'access-control-allow-credentials': 'true',
      'access-control-allow-methods': 'GET, POST',
      'access-control-allow-headers': 'content-type, x-api-key',
    });
    expect(answer.headers.get('vary')).toContain('Origin');

    const read = await postFrom(h, ALSO_LISTED);
    expect(read.status).toBe(200);
    expect(read.headers.get('access-control-allow-origin')).toBe(ALSO_LISTED);
    expect(read.headers.get('vary')).toContain('Origin');
    await read.arrayBuffer();
  });

  it('gives an unlisted origin nothing, credentials never reflected, even next to listed ones', async () => {
    for (const origin of [UNLISTED, `${LISTED}.evil.example.net`, 'https://dashboards.example.com:8443', 'null', LISTED.toUpperCase()]) {
      const answer = await preflight(h, origin);
      expect({ origin, headers: accessControlHeaders(answer) }).toEqual({ origin, headers: {} });
      const read = await postFrom(h, origin);
      expect({ origin, headers: accessControlHeaders(read) }).toEqual({ origin, headers: {} });
      await read.arrayBuffer();
    }
  });
});

describe('browser defenses, credentials off', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ configure: (config) => ({ ...config, auth: { ...config.auth, cors: { origins: [LISTED] } } }) });
  });
  afterAll(() => h?.close());

  it('allows the listed origin to read without credentials', async () => {
    const answer = await preflight(h, LISTED);
    expect(answer.headers.get('access-control-allow-origin')).toBe(LISTED);
    expect(answer.headers.get('access-control-allow-credentials')).toBeNull();
  });
});

/** A gateway in production: NODE_ENV=production outside sandbox mode, with webhook secrets of its own. */
const PRODUCTION = {
  env: { NODE_ENV: 'production', CRM_WEBHOOK_SECRET: 'a-secret-of-our-own-1', ORDERS_WEBHOOK_SECRET: 'a-secret-of-our-own-2', SUPPORT_WEBHOOK_SECRET: 'a-secret-of-our-own-3' },
  gateway: { sandbox: false },
};

describe('GraphiQL in production mode', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(PRODUCTION);
  });
  afterAll(() => h?.close());

  it('is not served, with a code that says how it is turned on, while GraphQL clients are answered as before', async () => {
    const page = await fetch(h.url, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(404);
    expect(await codeOf(page)).toBe('GRAPHIQL_DISABLED');
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');

    const answer = await h.query<{ customers: { nodes: unknown[] } }>(QUERY);
    expect(answer.status).toBe(200);
    expect(answer.data?.customers.nodes).toHaveLength(2);
  });
});

describe('GraphiQL in sandbox mode, whatever NODE_ENV says (npm start)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ env: { NODE_ENV: 'production' } });
  });
  afterAll(() => h?.close());

  it('is served', async () => {
    const page = await fetch(h.url, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    await page.arrayBuffer();
  });
});

describe('GraphiQL switched on in production', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ ...PRODUCTION, configure: (config) => ({ ...config, auth: { ...config.auth, graphiql: { enabled: true } } }) });
  });
  afterAll(() => h?.close());

  it('is served when auth.graphiql.enabled says so', async () => {
    const page = await fetch(h.url, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('YogaGraphiQL');
  });
});
