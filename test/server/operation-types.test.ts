/**
 * Every error of every operation type carries `extensions.code`, whatever transport yoga answers
 * it on (JSON, server-sent events, multipart). The gateway serves queries only: a mutation or a
 * subscription is refused when validated (GRAPHQL_VALIDATION_FAILED), before any source is called;
 * before, execution answered "Schema is not configured to execute ..." with no code. A query whose
 * source fails while it streams over server-sent events keeps the source's code too.
 */
import { DEMO_HEADERS, startHarness, type Harness } from '../support/harness';

interface Payload {
  data?: unknown;
  errors?: Array<{ message: string; extensions?: { code?: string } }>;
}

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

/** The payloads of an answer, as its content type carries them: one JSON body, SSE `data:` events, or multipart parts. */
async function payloads(response: Response): Promise<Payload[]> {
  const type = response.headers.get('content-type') ?? '';
  const text = await response.text();
  if (type.startsWith('application/json') || type.startsWith('application/graphql-response+json')) return [JSON.parse(text) as Payload];
  if (type.startsWith('text/event-stream')) {
    return text
      .split('\n')
      .filter((line) => line.startsWith('data: {'))
      .map((line) => JSON.parse(line.slice('data: '.length)) as Payload);
  }
  if (type.startsWith('multipart/mixed')) {
    return text
      .split('\r\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Payload);
  }
  throw new Error(`unexpected content type ${type} (status ${response.status}): ${text.slice(0, 200)}`);
}

const post = (query: string, accept: string) =>
  fetch(h.url, { method: 'POST', headers: { 'content-type': 'application/json', accept, ...DEMO_HEADERS }, body: JSON.stringify({ query }) });
const get = (query: string, accept: string) => fetch(`${h.url}?query=${encodeURIComponent(query)}`, { headers: { accept, 'x-graphql-yoga-csrf': '1', ...DEMO_HEADERS } });

const MUTATION = 'mutation Rename { customer(id: "0035e0000002O61AAE") { id } }';
const SUBSCRIPTION = 'subscription Watch { customer(id: "0035e0000002O61AAE") { id name } }';

const cases: Array<{ name: string; send: () => Promise<Response>; status: number; code: string; message: RegExp }> = [
  { name: 'a mutation over JSON', send: () => post(MUTATION, 'application/json'), status: 200, code: 'GRAPHQL_VALIDATION_FAILED', message: /^This API has no mutation type: it serves queries only/ },
  { name: 'a mutation over graphql-response+json', send: () => post(MUTATION, 'application/graphql-response+json'), status: 400, code: 'GRAPHQL_VALIDATION_FAILED', message: /no mutation type/ },
  { name: 'a mutation over server-sent events', send: () => post(MUTATION, 'text/event-stream'), status: 200, code: 'GRAPHQL_VALIDATION_FAILED', message: /no mutation type/ },
  { name: 'a mutation sent with GET', send: () => get(MUTATION, 'application/json'), status: 405, code: 'BAD_REQUEST', message: /POST/ },
  { name: 'a subscription over JSON', send: () => post(SUBSCRIPTION, 'application/json'), status: 200, code: 'GRAPHQL_VALIDATION_FAILED', message: /^This API has no subscription type/ },
  { name: 'a subscription over server-sent events (POST)', send: () => post(SUBSCRIPTION, 'text/event-stream'), status: 200, code: 'GRAPHQL_VALIDATION_FAILED', message: /no subscription type/ },
  { name: 'a subscription over server-sent events (GET)', send: () => get(SUBSCRIPTION, 'text/event-stream'), status: 200, code: 'GRAPHQL_VALIDATION_FAILED', message: /no subscription type/ },
  { name: 'a subscription over multipart', send: () => post(SUBSCRIPTION, 'multipart/mixed'), status: 400, code: 'GRAPHQL_VALIDATION_FAILED', message: /no subscription type/ },
  { name: 'a query with an unknown field over server-sent events', send: () => post('{ customer(id: "1") { idx } }', 'text/event-stream'), status: 200, code: 'GRAPHQL_VALIDATION_FAILED', message: /Cannot query field "idx"/ },
];

it.each(cases)('$name: every error carries its code, and no source is called', async ({ send, status, code, message }) => {
  h.resetUpstream();
  const response = await send();
  expect(response.status).toBe(status);
  const answers = await payloads(response);
  expect(answers.length).toBeGreaterThan(0);
  const errors = answers.flatMap((answer) => answer.errors ?? []);
  expect(errors.length).toBeGreaterThan(0);
  for (const error of errors) {
    expect(error.extensions?.code).toBe(code);
    expect(error.message).toMatch(message);
  }
  expect(h.upstream().total).toBe(0);
});

it("a query streamed over server-sent events whose source fails keeps the source's code at the field", async () => {
  await h.sandboxes.support.setKnobs({ errorRate: 1, errorStatus: 503 });
  try {
    const response = await post('{ customers(first: 2) { nodes { id tickets { id } } } }', 'text/event-stream');
    expect(response.status).toBe(200);
    const [answer, ...rest] = await payloads(response);
    expect(rest).toEqual([]);
    expect((answer!.data as { customers: { nodes: unknown[] } }).customers.nodes).toHaveLength(2);
    expect(answer!.errors!.map((error) => error.extensions?.code)).toEqual(['SOURCE_UNAVAILABLE', 'SOURCE_UNAVAILABLE']);
  } finally {
    await h.sandboxes.support.setKnobs({ errorRate: 0 });
  }
  expect((await fetch(`${h.server.url}/healthz`)).status).toBe(200);
});
