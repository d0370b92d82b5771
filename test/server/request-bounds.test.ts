/**
 * Request bounds, against a real gateway and real sandboxes on loopback: the request's JSON is
 * bounded before anything that recurses reads it (10,000 nested brackets in an unused variable
 * used to overflow JSON.stringify in pricing: an HTTP 500 and a stack trace on stderr); Node's
 * timeouts cut slow headers and slow bodies; connections beyond `server.maxConnections` are closed
 * as they are accepted; requests beyond `server.maxRequestsInFlight` are answered 503 with
 * `Retry-After`, unread, while a slow source holds the others. Upstream calls are counted at the
 * sandboxes, and each case checks that the gateway still serves afterwards.
 */
import { connect, type Socket } from 'node:net';
import baseConfig from '../../virtualization.config';
import { sandboxEnv, startSandboxes } from '../../sources/sandbox';
import type { VirtualizationConfigInput } from '../../src/config/definition';
import type { Runtime } from '../../src/runtime/create-runtime';
import { createLogger } from '../../src/telemetry/logger';
import { ManualClock } from '../support/manual-clock';
import { MemoryLog, startTestRuntime, type Sandboxes } from '../support/harness';
import { data } from '../integration/ground-truth';

const CUSTOMER = data.crm.contacts[3]!.Id;
/** The credential /graphql takes once client authentication is on (an unknown header until then). */
const CREDENTIAL = { 'x-api-key': process.env.VIRTUALIZE_DEMO_KEY ?? 'vz_demo_sandbox_all_scopes' };
const NO_CACHE = { upstream: { enabled: false }, responses: { enabled: false } } as const;

interface Gateway {
  runtime: Runtime;
  sandboxes: Sandboxes;
  clock: ManualClock;
  logs: { app: MemoryLog; audit: MemoryLog };
  upstream(): number;
  close(): Promise<void>;
}

/** Sandboxes whose latency waits on a manual clock (they answer when the test moves it), and a gateway with `server` bounds. */
async function startGateway(server: VirtualizationConfigInput['server'], latencyMs = 0): Promise<Gateway> {
  const clock = new ManualClock();
  const sandboxes = await startSandboxes({ latencyMs, clock, ports: { crm: 0, orders: 0, support: 0 } });
  const logs = { app: new MemoryLog(), audit: new MemoryLog() };
  const input: VirtualizationConfigInput = { ...baseConfig, server: { ...baseConfig.server, ...server }, cache: NO_CACHE };
  const runtime = await startTestRuntime(input, {
    env: sandboxEnv(sandboxes),
    logs: { app: createLogger('app', logs.app.destination), audit: createLogger('audit', logs.audit.destination) },
  });
  const total = () => [sandboxes.crm, sandboxes.orders, sandboxes.support].reduce((sum, sandbox) => sum + Object.values(sandbox.stats().byRoute).reduce((a, b) => a + b, 0), 0);
  return {
    runtime,
    sandboxes,
    clock,
    logs,
    upstream: total,
    close: async () => {
      await runtime.close();
      await sandboxes.close();
    },
  };
}

async function post(url: string, body: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; json: { data?: unknown; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> } }> {
  const response = await fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json', ...CREDENTIAL, ...headers }, body });
  return { status: response.status, headers: response.headers, json: (await response.json()) as never };
}

/** A raw connection and everything the server sent on it until it closed. */
function rawSocket(port: number): { socket: Socket; connected: Promise<void>; received: () => string; closed: Promise<string> } {
  const socket = connect(port, '127.0.0.1');
  let text = '';
  socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
  socket.on('error', () => undefined);
  return {
    socket,
    connected: new Promise((resolve) => socket.once('connect', () => resolve())),
    received: () => text,
    closed: new Promise((resolve) => socket.once('close', () => resolve(text))),
  };
}

/** Sends a keep-alive GET /healthz on the socket and resolves with the answer's head once it has come. */
function healthOn(raw: ReturnType<typeof rawSocket>): Promise<string> {
  return new Promise((resolve, reject) => {
    const onData = () => {
      if (!/\r\n\r\n[\s\S]*"status":"ok"/.test(raw.received())) return;
      raw.socket.off('data', onData);
      resolve(raw.received());
    };
    raw.socket.on('data', onData);
    raw.socket.once('close', () => reject(new Error(`closed before an answer: ${JSON.stringify(raw.received())}`)));
    raw.socket.write('GET /healthz HTTP/1.1\r\nHost: gateway\r\nConnection: keep-alive\r\n\r\n');
  });
}

describe('the JSON of a request is bounded before anything recurses over it', () => {
  let g: Gateway;
  let stderr: jest.SpyInstance;
  let consoleError: jest.SpyInstance;
  beforeAll(async () => {
    g = await startGateway({});
  });
  afterAll(() => g.close());
  beforeEach(() => {
    g.sandboxes.crm.resetStats();
    stderr = jest.spyOn(process.stderr, 'write');
    consoleError = jest.spyOn(console, 'error');
  });
  afterEach(() => {
    stderr.mockRestore();
    consoleError.mockRestore();
  });

  const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

  it.each([
    ['10,000 nested brackets in an unused variable', `{"query":"{ __typename }","variables":{"unused":${nested(10_000)}}}`, /nests deeper than 32 levels at variables\.unused\[0\]\[0\]\[0\]\[0\]\.\.\. \(guard\.limits\.jsonDepth\)/],
    ['nested objects in the extensions', `{"query":"{ __typename }","extensions":${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}}`, /nests deeper than 32 levels at extensions\.a\.a\.a\.a\.a\.\.\./],
    ['a batch whose second operation nests', `[{"query":"{ __typename }"},{"query":"{ __typename }","variables":{"v":${nested(10_000)}}}]`, /nests deeper than 32 levels at \[1\]\.variables\.v/],
    ['a whole body of nested brackets', nested(10_000), /nests deeper than 32 levels at request\[0\]/],
    ['a string over the limit', `{"query":"{ __typename }","variables":{"note":"${'x'.repeat(100_001)}"}}`, /a string of 100001 characters at variables\.note, above the limit of 100000 \(guard\.limits\.jsonStringLength\)/],
  ])('%s: 400 JSON_LIMIT_EXCEEDED, no stack trace, 0 upstream calls', async (_name, body, says) => {
    const answer = await post(g.runtime.url, body);
    expect(answer.status).toBe(400);
    const errors = Array.isArray(answer.json) ? (answer.json as Array<typeof answer.json>).flatMap((one) => one.errors ?? []) : (answer.json.errors ?? []);
    expect(errors.map((error) => error.extensions?.code)).toEqual(['JSON_LIMIT_EXCEEDED']);
    expect(errors[0]!.message).toMatch(says);
    expect(JSON.stringify(answer.json)).not.toContain('INTERNAL_SERVER_ERROR');
    expect(consoleError).not.toHaveBeenCalled();
    expect(stderr).not.toHaveBeenCalled();
    expect(g.upstream()).toBe(0);
    expect((await fetch(`${g.runtime.url}/healthz`)).status).toBe(200);
  });

  it('the same in the variables of a GET', async () => {
    const variables = encodeURIComponent(`{"unused":${nested(40)}}`);
    const response = await fetch(`${g.runtime.url}/graphql?query=${encodeURIComponent('{ __typename }')}&variables=${variables}`, { headers: { accept: 'application/json', 'x-graphql-yoga-csrf': '1', ...CREDENTIAL } });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { errors: Array<{ extensions: { code: string } }> };
    expect(body.errors.map((error) => error.extensions.code)).toEqual(['JSON_LIMIT_EXCEEDED']);
  });

  it('JSON at the limits is read and answered: 32 levels, a string of 100,000 characters', async () => {
    const answer = await post(
      g.runtime.url,
      JSON.stringify({ query: 'query($id: ID!) { customer(id: $id) { id } }', variables: { id: CUSTOMER, unused: JSON.parse(nested(31)) as unknown, note: 'x'.repeat(100_000) } }),
    );
    expect(answer.status).toBe(200);
    expect(answer.json.data).toEqual({ customer: { id: CUSTOMER } });
    expect(g.upstream()).toBe(1);
  });
});

describe("Node's timeouts, from server in the configuration", () => {
  let g: Gateway;
  beforeAll(async () => {
    g = await startGateway({ headersTimeoutMs: 200, requestTimeoutMs: 300 });
  });
  afterAll(() => g.close());

  it('a body that stops coming is cut at requestTimeoutMs: 408, the connection closed, no upstream call', async () => {
    const raw = rawSocket(g.runtime.port);
    await raw.connected;
    const body = JSON.stringify({ query: `{ customer(id: "${CUSTOMER}") { id } }` });
    raw.socket.write(`POST /graphql HTTP/1.1\r\nHost: gateway\r\nx-api-key: ${CREDENTIAL['x-api-key']}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 10)}`);
    // The server's own timeout closes it: this waits for that event, not for a time of its own.
    expect(await raw.closed).toMatch(/^HTTP\/1\.1 408 /);
    expect(g.upstream()).toBe(0);
    expect((await fetch(`${g.runtime.url}/healthz`)).status).toBe(200);
  });

  it('headers that stop coming, and a connection that sends nothing, are cut at headersTimeoutMs', async () => {
    const slow = rawSocket(g.runtime.port);
    const idle = rawSocket(g.runtime.port);
    await Promise.all([slow.connected, idle.connected]);
    slow.socket.write('POST /graphql HTTP/1.1\r\nHost: gateway\r\n');
    expect(await slow.closed).toMatch(/^HTTP\/1\.1 408 /);
    expect(await idle.closed).toMatch(/^HTTP\/1\.1 408 /);
    expect(idle.socket.destroyed).toBe(true);
    expect(g.upstream()).toBe(0);
  });
});

describe('load shedding: server.maxRequestsInFlight', () => {
  let g: Gateway;
  beforeAll(async () => {
    // Every sandbox answer waits 1 s on the manual clock: the test says when the source answers.
    g = await startGateway({ maxRequestsInFlight: 2, retryAfterSeconds: 3 }, 1_000);
  });
  afterAll(() => g.close());

  it('beyond it, 503 OVERLOADED with Retry-After, unread, while a slow source holds the others; health still answers', async () => {
    const query = JSON.stringify({ query: `{ customer(id: "${CUSTOMER}") { id name } }` });
    const held = [post(g.runtime.url, query), post(g.runtime.url, query)];
    // Both have reached the CRM, which holds them until the clock moves.
    await g.clock.untilTimers(2);
    expect(g.upstream()).toBe(2);

    const shed = await post(g.runtime.url, query);
    expect(shed.status).toBe(503);
    expect(shed.headers.get('retry-after')).toBe('3');
    expect(shed.headers.get('connection')).toBe('close');
    expect(shed.json.errors?.map((error) => error.extensions?.code)).toEqual(['OVERLOADED']);
    expect(shed.json.errors?.[0]?.message).toMatch(/serving 2 requests already \(server\.maxRequestsInFlight\); this one was not read\. Retry in 3 s/);
    expect(g.upstream()).toBe(2);
    expect((await fetch(`${g.runtime.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${g.runtime.url}/readyz`)).status).toBe(200);

    g.clock.advance(1_000);
    const answers = await Promise.all(held);
    expect(answers.map((answer) => answer.status)).toEqual([200, 200]);
    expect(answers.every((answer) => (answer.json.data as { customer: { id: string } }).customer.id === CUSTOMER)).toBe(true);

    // Their places are free again.
    const after = post(g.runtime.url, query);
    await g.clock.untilTimers(1);
    g.clock.advance(1_000);
    expect((await after).status).toBe(200);
    expect(g.upstream()).toBe(3);
    const metrics = await (await fetch(`${g.runtime.url}/metrics`)).text();
    expect(metrics).toMatch(/^virtualize_http_refused_total\{reason="in_flight"\} 1$/m);
  });
});

describe('server.maxConnections', () => {
  let g: Gateway;
  beforeAll(async () => {
    g = await startGateway({ maxConnections: 2 });
  });
  afterAll(() => g.close());

  it('a connection beyond the cap is closed as it is accepted, unanswered; once one closes, the next is served', async () => {
    const first = rawSocket(g.runtime.port);
    const second = rawSocket(g.runtime.port);
    await healthOn(first);
    await healthOn(second);

    const third = rawSocket(g.runtime.port);
    third.socket.write('GET /healthz HTTP/1.1\r\nHost: gateway\r\n\r\n');
    expect(await third.closed).toBe('');

    first.socket.end();
    await first.closed;
    // The server counts the closed connection out on its own turn of the loop: a few tries at
    // most, each ended by the server's own close or answer.
    let answered = false;
    for (let attempt = 0; attempt < 5 && !answered; attempt++) {
      const next = rawSocket(g.runtime.port);
      answered = await healthOn(next).then(
        () => true,
        () => false,
      );
      next.socket.destroy();
    }
    expect(answered).toBe(true);
    second.socket.destroy();
    await second.closed;

    let metrics = '';
    for (let attempt = 0; attempt < 5 && !metrics; attempt++) metrics = await fetch(`${g.runtime.url}/metrics`).then((r) => r.text(), () => '');
    expect(metrics).toMatch(/^virtualize_http_refused_total\{reason="connections"\} [1-9]\d*$/m);
  });
});
