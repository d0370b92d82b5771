/**
 * An attacker's catalogue against a real gateway and its sandboxes, counting upstream calls:
 * every way around authentication (paths, methods, headers), authorization (batches, streams,
 * introspection, back-joins, fragments) and masking (raw emails through any path, explain, the
 * response tier) that was tried. Each attempt that holds keeps its assertion here, so that it
 * keeps holding.
 */
import { request as httpRequest } from 'node:http';
import { operationIdOf } from '../../src/auth/operation-id';
import { EXPLAIN_HEADER } from '../../src/server/explain';
import { contact, customerIdOfRef, data, expectedOrder } from '../integration/ground-truth';
import { DEMO_KEY, DEMO_LIMITED_KEY, startHarness, type Harness } from '../support/harness';

const ADMIN_TOKEN = 'admin-token-for-probes';
const LIMITED = { 'x-api-key': DEMO_LIMITED_KEY };
const FULL = { 'x-api-key': DEMO_KEY };
const customerId = data.crm.contacts.find((c) => c.Email)!.Id;
const rawEmail = contact(customerId).Email!.trim().toLowerCase();
const linkedOrder = data.orders.orders.find((o) => customerIdOfRef(o.customer_ref) === customerId) ?? data.orders.orders.find((o) => customerIdOfRef(o.customer_ref) !== undefined)!;
const orderId = expectedOrder(linkedOrder).id;
const orderEmail = contact(customerIdOfRef(linkedOrder.customer_ref)!).Email!.trim().toLowerCase();
const NAME_QUERY = `{ customer(id: "${customerId}") { name } }`;

interface Raw {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** A request exactly as written (path, repeated headers), which fetch would normalise. */
function raw(h: Harness, method: string, path: string, headers: Record<string, string | string[]>, body?: string): Promise<Raw> {
  const url = new URL(h.server.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, method, path, headers: { ...headers, ...(body !== undefined ? { 'content-length': String(Buffer.byteLength(body)) } : {}) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

const json = { 'content-type': 'application/json', accept: 'application/json' };

describe('probes', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ env: { VIRTUALIZE_ADMIN_TOKEN: ADMIN_TOKEN } });
  });
  afterAll(() => h?.close());

  async function counted<T>(run: () => Promise<T>): Promise<{ result: T; upstream: number }> {
    h.resetUpstream();
    const result = await run();
    return { result, upstream: h.upstream().total };
  }

  describe('authentication by path, method and header', () => {
    const body = JSON.stringify({ query: NAME_QUERY });
    it.each(['/graphql', '/graphql/', '/GRAPHQL', '//graphql', '/graphql;x', '/graphql%2f', '/graphql?x=1', '/graphql/stream', '/graphql/../graphql', '/./graphql', '/anything', '/graphql#x'])(
      'POST %s without a credential runs nothing',
      async (path) => {
        const { result, upstream } = await counted(() => raw(h, 'POST', path, json, body));
        expect(upstream).toBe(0);
        expect([401, 404]).toContain(result.status);
        expect(result.text).not.toContain('"data"');
      },
    );

    it.each(['/graphql', '/graphql/', '/GRAPHQL', '//graphql'])('GET %s?query= without a credential runs nothing, whatever it accepts', async (path) => {
      for (const accept of ['application/json', 'text/html', 'text/html, application/graphql-response+json', '*/*', 'text/event-stream']) {
        const { result, upstream } = await counted(() => raw(h, 'GET', `${path}?query=${encodeURIComponent(NAME_QUERY)}`, { accept, 'x-graphql-yoga-csrf': '1' }));
        expect(upstream).toBe(0);
        expect(result.text).not.toContain('"customer"');
        if (!accept.startsWith('text/html')) expect(result.status).toBe(401);
      }
    });

    it('a preflight or a page request without a credential runs nothing', async () => {
      for (const [method, accept] of [['OPTIONS', '*/*'], ['GET', 'text/html']] as const) {
        const { result, upstream } = await counted(() => raw(h, method, `/graphql?query=${encodeURIComponent(NAME_QUERY)}`, { accept, origin: 'https://evil.example', 'access-control-request-method': 'POST' }));
        expect(upstream).toBe(0);
        expect(result.text).not.toContain('"customer"');
        expect(result.headers['access-control-allow-origin']).toBeUndefined();
      }
    });

    it('SSE and multipart answers without a credential run nothing', async () => {
      for (const accept of ['text/event-stream', 'multipart/mixed']) {
        const { result, upstream } = await counted(() => raw(h, 'POST', '/graphql', { 'content-type': 'application/json', accept }, body));
        expect(upstream).toBe(0);
        expect(result.status).toBe(401);
      }
    });

    it('reads the header case-insensitively, refuses doubled, padded, lower-case-scheme and overlong credentials', async () => {
      const attempt = (headers: Record<string, string | string[]>) => counted(() => raw(h, 'POST', '/graphql', { ...json, ...headers }, body));
      // A header's name has no case (HTTP): the key is the same key.
      expect((await attempt({ 'X-API-KEY': DEMO_LIMITED_KEY })).result.status).toBe(200);
      const refused: Array<Record<string, string | string[]>> = [
        { 'x-api-key': [DEMO_LIMITED_KEY, DEMO_KEY] },
        { 'x-api-key': [DEMO_KEY, 'wrong'] },
        { 'x-api-key': `${DEMO_KEY}, ${DEMO_KEY}` },
        { 'x-api-key': ` ${DEMO_KEY}x` },
        { 'x-api-key': `${DEMO_KEY}\tx` },
        { 'x-api-key': DEMO_LIMITED_KEY, authorization: `ApiKey ${DEMO_KEY}` },
        { authorization: [`ApiKey ${DEMO_KEY}`, `ApiKey ${DEMO_LIMITED_KEY}`] },
        { authorization: `Basic ${Buffer.from(`x:${DEMO_KEY}`).toString('base64')}` },
        { 'x-api-key': 'x'.repeat(16_000) },
        { authorization: `Bearer ${'a'.repeat(8_000)}` },
      ];
      for (const headers of refused) {
        const { result, upstream } = await attempt(headers);
        expect(upstream).toBe(0);
        expect([401, 431]).toContain(result.status);
        expect(result.text).not.toContain(DEMO_KEY);
      }
      // Whitespace around a header value is not part of it (RFC 9110 OWS, stripped by the HTTP
      // parser): a padded limited key is the limited key, never another.
      const padded = await attempt({ 'x-api-key': ` ${DEMO_LIMITED_KEY} ` });
      expect(padded.result.status).toBe(200);
      const tickets = await counted(() => raw(h, 'POST', '/graphql', { ...json, 'x-api-key': `${DEMO_LIMITED_KEY}  ` }, JSON.stringify({ query: `{ customer(id: "${customerId}") { tickets { id } } }` })));
      expect(tickets.result.status).toBe(403);
      expect(tickets.upstream).toBe(0);
      // The scheme, like a header name, has no case (RFC 9110): lower-case apikey is the same key.
      // And 1*SP separates it from the credential (RFC 9110 11.4): the same limited key either way.
      for (const authorization of [`apikey ${DEMO_LIMITED_KEY}`, `ApiKey   ${DEMO_LIMITED_KEY}`]) {
        const limited = await counted(() => raw(h, 'POST', '/graphql', { ...json, authorization }, JSON.stringify({ query: `{ customer(id: "${customerId}") { email } }` })));
        expect(limited.result.status).toBe(200);
        expect(limited.result.text).not.toContain(rawEmail);
      }
    });
  });

  describe('authorization of the limited key', () => {
    it('a batch mixing allowed and denied fields refuses the denied operation and fetches none of it', async () => {
      const batch = JSON.stringify([{ query: NAME_QUERY }, { query: `{ customer(id: "${customerId}") { tickets { subject } } }` }]);
      const { result, upstream } = await counted(() => raw(h, 'POST', '/graphql', { ...json, ...LIMITED }, batch));
      const answers = JSON.parse(result.text) as Array<{ data?: unknown; errors?: Array<{ extensions?: { code?: string } }> }>;
      expect(answers[1]!.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      expect(answers[1]!.data ?? null).toBeNull();
      expect(h.upstream().support).toEqual({});
      expect(upstream).toBeLessThanOrEqual(1);
    });

    it('SSE and multipart answers are authorized as JSON ones', async () => {
      for (const accept of ['text/event-stream', 'multipart/mixed']) {
        const denied = JSON.stringify({ query: `{ customer(id: "${customerId}") { tickets { subject } } }` });
        const { result } = await counted(() => raw(h, 'POST', '/graphql', { 'content-type': 'application/json', accept, ...LIMITED }, denied));
        expect(result.text).toContain('FORBIDDEN');
        expect(h.upstream().support).toEqual({});
        const email = JSON.stringify({ query: `{ customer(id: "${customerId}") { email } }` });
        const masked = await raw(h, 'POST', '/graphql', { 'content-type': 'application/json', accept, ...LIMITED }, email);
        expect(masked.text).not.toContain(rawEmail);
      }
    });

    it.each([
      ['__type', '{ __type(name: "Ticket") { name fields { name } } }'],
      ['__type of Customer', '{ __type(name: "Customer") { fields { name } } }'],
      ['aliased __schema', '{ s: __schema { types { name } } }'],
      ['__schema with data', `{ customer(id: "${customerId}") { name } __schema { types { name } } }`],
      ['__schema in a fragment', '{ ...F } fragment F on Query { __schema { queryType { fields { name } } } }'],
    ])('introspection (%s) never shows Ticket to the limited key', async (_name, query) => {
      const { result, upstream } = await counted(() => h.query(query, undefined, LIMITED));
      expect(JSON.stringify(result)).not.toMatch(/"Ticket"|"tickets"|"ticket"/);
      expect(upstream).toBeLessThanOrEqual(1);
    });

    const emailPaths = [
      `{ customer(id: "${customerId}") { email } }`,
      `{ customersByIds(ids: ["${customerId}"]) { email } }`,
      `{ customers(first: 50) { nodes { email } } }`,
      `{ order(id: "${orderId}") { customer { email } } }`,
      `{ customer(id: "${customerId}") { ...E } } fragment E on Customer { email }`,
      `{ customer(id: "${customerId}") { ... on Customer { e: email } } }`,
      `{ customer(id: "${customerId}") { orders(first: 1) { customer { email } } } }`,
    ];
    it.each(emailPaths)('never reads Customer.email raw: %s', async (query) => {
      const answer = await h.query(query, undefined, LIMITED);
      expect(answer.status).toBe(200);
      const text = JSON.stringify(answer);
      expect(text).not.toContain(rawEmail);
      expect(text).not.toContain(orderEmail);
      expect(text).toMatch(/\*\*\*@/);
    });

    it('explain provenance and extensions carry no raw email', async () => {
      const response = await fetch(h.url, {
        method: 'POST',
        headers: { ...json, ...LIMITED, [EXPLAIN_HEADER]: '1' },
        body: JSON.stringify({ query: `{ customer(id: "${customerId}") { email } order(id: "${orderId}") { customer { email } } }` }),
      });
      const text = await response.text();
      expect(text).not.toContain(rawEmail);
      expect(text).not.toContain(orderEmail);
    });

    it('a misspelt field suggests no field the limited key may not see', async () => {
      const answer = await h.query(`{ customer(id: "${customerId}") { ticket { id } } tickt(id: "1") { id } }`, undefined, LIMITED);
      expect(answer.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
      expect(JSON.stringify(answer)).not.toMatch(/Did you mean|tickets/);
    });

    it('explain of a refused operation plans nothing and names no upstream', async () => {
      h.resetUpstream();
      const response = await fetch(h.url, {
        method: 'POST',
        headers: { ...json, ...LIMITED, [EXPLAIN_HEADER]: '1' },
        body: JSON.stringify({ query: `{ customer(id: "${customerId}") { email tickets { subject } } }` }),
      });
      const text = await response.text();
      expect(response.status).toBe(403);
      expect(h.upstream().total).toBe(0);
      expect(text).not.toMatch(/127\.0\.0\.1|"plan"/);
      expect(text).not.toContain(rawEmail);
    });

    it('a bad argument error repeats no raw email', async () => {
      const answer = await h.query(`{ customer(id: "${customerId}") { email orders(first: -1) { number } } }`, undefined, LIMITED);
      expect(JSON.stringify(answer)).not.toContain(rawEmail);
    });
  });

  describe('the response tier after an unmasked caller', () => {
    let cached: Harness;
    beforeAll(async () => {
      cached = await startHarness({ cache: true });
    });
    afterAll(() => cached?.close());

    it('serves the limited key a masked email after the full key asked the same document', async () => {
      const query = `{ customer(id: "${customerId}") { email } }`;
      for (let i = 0; i < 3; i++) expect(JSON.stringify(await cached.query(query, undefined, FULL))).toContain(rawEmail);
      for (let i = 0; i < 2; i++) expect(JSON.stringify(await cached.query(query, undefined, LIMITED))).not.toContain(rawEmail);
      // And the other way round: an answer stored for the limited key is not served masked to the full one.
      const other = `{ c: customer(id: "${customerId}") { email } }`;
      for (let i = 0; i < 3; i++) expect(JSON.stringify(await cached.query(other, undefined, LIMITED))).not.toContain(rawEmail);
      expect(JSON.stringify(await cached.query(other, undefined, FULL))).toContain(rawEmail);
      const explained = await fetch(cached.url, { method: 'POST', headers: { ...json, ...LIMITED, [EXPLAIN_HEADER]: '1' }, body: JSON.stringify({ query }) });
      expect(await explained.text()).not.toContain(rawEmail);
    });
  });

  describe('with introspection off and trusted documents enforced', () => {
    let t: Harness;
    beforeAll(async () => {
      t = await startHarness({
        env: { VIRTUALIZE_ADMIN_TOKEN: ADMIN_TOKEN },
        configure: (config) => ({ ...config, auth: { ...config.auth, introspection: { enabled: false }, trustedDocuments: { mode: 'enforce' } } }),
      });
    });
    afterAll(() => t?.close());

    async function push(documents: string[]): Promise<boolean> {
      const response = await fetch(`${t.server.url}/admin/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
        body: JSON.stringify({ query: 'mutation($o: [OperationInput!]!) { pushOperations(operations: $o) { ok } }', variables: { o: documents.map((document) => ({ document })) } }),
      });
      const answer = (await response.json()) as { data?: { pushOperations: { ok: boolean } } };
      return answer.data?.pushOperations.ok === true;
    }

    async function send(body: unknown, headers: Record<string, string> = LIMITED) {
      t.resetUpstream();
      const response = await fetch(t.url, { method: 'POST', headers: { ...json, ...headers }, body: JSON.stringify(body) });
      return { status: response.status, text: await response.text(), upstream: t.upstream().total };
    }

    const allowed = `query Names { customer(id: "${customerId}") { name } }`;
    const denied = `query Tickets { customer(id: "${customerId}") { tickets { subject } } }`;
    const introspect = 'query Intro { __schema { types { name } } }';
    beforeAll(async () => {
      expect(await push([allowed, denied, introspect])).toBe(true);
    });

    it('refuses a documentId with another query, and a registered hash with another query', async () => {
      const other = `{ customer(id: "${customerId}") { email } }`;
      for (const body of [
        { documentId: operationIdOf(allowed), query: other },
        { query: other, extensions: { persistedQuery: { version: 1, sha256Hash: operationIdOf(allowed) } } },
        { documentId: `sha256:${operationIdOf(allowed)}`, query: other },
      ]) {
        const answer = await send(body);
        expect(answer.upstream).toBe(0);
        expect(answer.text).not.toContain('"email"');
        expect(answer.text).toMatch(/PERSISTED_QUERY_HASH_MISMATCH|BAD_REQUEST/);
      }
    });

    it('refuses the same smuggling in a GET query string', async () => {
      const other = `{ customer(id: "${customerId}") { email } }`;
      for (const search of [
        { documentId: operationIdOf(allowed), query: other },
        { query: other, extensions: JSON.stringify({ persistedQuery: { version: 1, sha256Hash: operationIdOf(allowed) } }) },
      ]) {
        t.resetUpstream();
        const url = new URL(t.url);
        for (const [name, value] of Object.entries(search)) url.searchParams.set(name, value);
        const response = await fetch(url, { headers: { accept: 'application/json', 'x-graphql-yoga-csrf': '1', ...LIMITED } });
        const text = await response.text();
        expect(t.upstream().total).toBe(0);
        expect(text).not.toContain('"email"');
        expect(text).toMatch(/PERSISTED_QUERY_HASH_MISMATCH|PERSISTED_QUERY_NOT_ALLOWED/);
      }
    });

    it('a registered document with denied fields is still refused to the limited key', async () => {
      const answer = await send({ documentId: operationIdOf(denied) });
      expect(answer.status).toBe(403);
      expect(answer.upstream).toBe(0);
      const byHash = await send({ extensions: { persistedQuery: { version: 1, sha256Hash: operationIdOf(denied) } } });
      expect(byHash.status).toBe(403);
    });

    it('a batch of a registered and an inline document runs neither inline one', async () => {
      const answer = await send([{ documentId: operationIdOf(allowed) }, { query: `{ customer(id: "${customerId}") { email } }` }]);
      const [first, second] = JSON.parse(answer.text) as Array<{ data?: unknown; errors?: Array<{ extensions?: { code?: string } }> }>;
      expect(first!.data).toBeTruthy();
      expect(second!.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_ALLOWED');
      expect(answer.text).not.toContain('"email"');
    });

    it('a registered introspection document is refused when introspection is off', async () => {
      const answer = await send({ documentId: operationIdOf(introspect) }, FULL);
      expect(answer.text).not.toContain('"Customer"');
    });

  });

  describe('in filter mode', () => {
    let f: Harness;
    beforeAll(async () => {
      f = await startHarness({ cache: true, configure: (config) => ({ ...config, auth: { ...config.auth, authorization: { mode: 'filter' } } }) });
    });
    afterAll(() => f?.close());

    it('nulls denied fields without fetching them, through aliases, fragments and skipped directives, and still masks', async () => {
      const query = `query($no: Boolean = false) { customer(id: "${customerId}") { name email t: tickets { subject } ...T ... @skip(if: $no) { tickets { id } } } } fragment T on Customer { tickets { id } }`;
      for (let i = 0; i < 3; i++) {
        f.resetUpstream();
        const answer = await f.query<{ customer: Record<string, unknown> }>(query, undefined, LIMITED);
        expect(answer.data?.customer.t).toBeNull();
        expect(answer.data?.customer.tickets).toBeNull();
        expect(JSON.stringify(answer)).not.toContain(rawEmail);
        expect(f.upstream().support).toEqual({});
      }
    });
  });

  describe('with introspection off', () => {
    let t: Harness;
    beforeAll(async () => {
      t = await startHarness({ configure: (config) => ({ ...config, auth: { ...config.auth, introspection: { enabled: false } } }) });
    });
    afterAll(() => t?.close());

    async function send(body: unknown, headers: Record<string, string> = LIMITED) {
      t.resetUpstream();
      const response = await fetch(t.url, { method: 'POST', headers: { ...json, ...headers }, body: JSON.stringify(body) });
      return { status: response.status, text: await response.text(), upstream: t.upstream().total };
    }

    it.each(['{ __type(name: "Customer") { name } }', '{ s: __schema { types { name } } }', `{ customer(id: "${customerId}") { name } __schema { types { name } } }`])('inline introspection %s is refused', async (query) => {
      const answer = await send({ query }, FULL);
      expect(answer.text).not.toContain('"Customer"');
    });
    it('validation errors suggest no field names when introspection is off', async () => {
      for (const query of [`{ custome(id: "${customerId}") { name } }`, `{ customer(id: "${customerId}") { emai } }`, `{ customer(id: "${customerId}") { ticket { id } } }`]) {
        const answer = await send({ query }, FULL);
        expect(answer.upstream).toBe(0);
        expect(answer.text).toContain('GRAPHQL_VALIDATION_FAILED');
        expect(answer.text).not.toMatch(/Did you mean/);
      }
      const segment = await send({ query: 'query($s: CustomerSegment) { customers(segment: $s) { nodes { name } } }', variables: { s: 'VI' } }, FULL);
      expect(segment.upstream).toBe(0);
      expect(segment.text).not.toMatch(/Did you mean/);
    });

  });

  describe('webhooks and admin without credentials', () => {
    it('/metrics and /readyz, which need no credential, name no key, caller or customer value', async () => {
      await h.query(`{ customer(id: "${customerId}") { email } }`, undefined, LIMITED);
      for (const path of ['/metrics', '/readyz', '/healthz']) {
        const result = await raw(h, 'GET', path, {});
        expect(result.text).not.toContain(DEMO_LIMITED_KEY);
        expect(result.text).not.toContain(DEMO_KEY);
        expect(result.text).not.toContain(rawEmail);
        expect(result.text).not.toContain(customerId);
      }
    });

    it('refuses two admin tokens at once, even when the first is the admin token', async () => {
      const body = '{"query":"{ apiKeys { id } }"}';
      const one = await raw(h, 'POST', '/admin/graphql', { ...json, authorization: `Bearer ${ADMIN_TOKEN}` }, body);
      expect(one.status).toBe(200);
      const two = await raw(h, 'POST', '/admin/graphql', { ...json, authorization: [`Bearer ${ADMIN_TOKEN}`, 'Bearer other'] }, body);
      expect(two.status).toBe(401);
      expect(two.text).not.toContain('"apiKeys"');
    });

    it.each([
      ['POST', '/webhooks/crm', '{"type":"contact.updated","id":"1"}'],
      ['POST', '/webhooks/orders', '{}'],
      ['POST', '/admin/graphql', '{"query":"{ apiKeys { id } }"}'],
      ['POST', '/admin/graphql', '{"query":"mutation { createApiKey(name: \\"x\\", scopes: [\\"pii:read\\"]) { key } }"}'],
      ['GET', '/admin/graphql?query=%7B%20apiKeys%20%7B%20id%20%7D%20%7D', undefined],
      ['POST', '/ADMIN/graphql', '{"query":"{ apiKeys { id } }"}'],
      ['POST', '//admin/graphql', '{"query":"{ apiKeys { id } }"}'],
    ])('%s %s is refused', async (method, path, body) => {
      for (const headers of [{}, LIMITED, FULL, { authorization: 'Bearer wrong' }] as Array<Record<string, string>>) {
        const result = await raw(h, method, path, { 'content-type': 'application/json', accept: 'application/json', 'x-graphql-yoga-csrf': '1', ...headers }, body);
        // Only /admin/ (exactly) is the admin API; any other spelling is a GraphQL request to the
        // gateway, authenticated as such, whose schema has no admin field.
        expect(result.text).not.toMatch(/"data"\s*:\s*\{|vz_[a-z0-9]+_/);
        if (!('x-api-key' in headers)) expect(result.status).toBeGreaterThanOrEqual(400);
      }
    });

    // Last: every attempt above has been logged by now.
    it('after all of the above, neither log holds a key, the admin token or a raw email', async () => {
      await h.query(`{ customer(id: "${customerId}") { email } }`, undefined, FULL);
      const text = JSON.stringify([h.logs.app.entries(), h.logs.audit.entries()]);
      expect(h.logs.audit.entries().length).toBeGreaterThan(0);
      for (const secret of [DEMO_KEY, DEMO_LIMITED_KEY, ADMIN_TOKEN, rawEmail]) expect(text).not.toContain(secret);
    });
  });
});
