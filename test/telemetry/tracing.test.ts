/**
 * Traces of the customer 360, read from an in-memory exporter and checked against what the
 * sandboxes saw: one client span per upstream call they counted, each under the delegation span of
 * its source, all in the trace of the operation that caused it (also when two operations run at
 * once over connections opened by an earlier one), with the `traceparent` each source received
 * naming that very client span. Nothing secret or personal is in any exported span.
 */
import { SpanKind } from '@opentelemetry/api';
import type { ExportResult } from '@opentelemetry/core';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace';
import baseConfig from '../../virtualization.config';
import { normalizeEmail, sandboxDataset } from '../../sources/sandbox';
import { SANDBOX_CREDENTIALS } from '../../sources/sandbox/auth';
import { EXPLAIN_HEADER, type FanoutEntry } from '../../src/server/explain';
import { ATTR } from '../../src/telemetry/attributes';
import { startTracing, stopTracing } from '../../src/telemetry/tracing';
import { DEMO_KEY, startHarness, type Harness } from '../support/harness';

const QUERY = baseConfig.examples![0]!.query;
const SYSTEMS = ['crm', 'orders', 'support'] as const;

/** Keeps finished spans in memory and tells whoever waits for some that more have come. */
class WatchedExporter extends InMemorySpanExporter {
  private readonly waiters = new Set<() => void>();

  override export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    super.export(spans, resultCallback);
    for (const waiter of [...this.waiters]) waiter();
  }

  /** Resolves once `done` holds over the spans exported so far. */
  until(done: (spans: ReadableSpan[]) => boolean): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        if (!done(this.getFinishedSpans())) return;
        this.waiters.delete(check);
        resolve();
      };
      this.waiters.add(check);
      check();
    });
  }
}

const exporter = new WatchedExporter();
let h: Harness;

beforeAll(async () => {
  startTracing({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  // The CRM takes an API key, the support desk OAuth client credentials (bearer tokens).
  h = await startHarness();
});

afterAll(async () => {
  await h?.close();
  await stopTracing();
});

const isUpstream = (span: ReadableSpan) => span.kind === SpanKind.CLIENT && span.attributes[ATTR.source] !== undefined;
const upstreamSpans = () => exporter.getFinishedSpans().filter(isUpstream);
const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;
const idOf = (span: ReadableSpan) => span.spanContext().spanId;

/**
 * Waits for the spans of `operations` operations of `name` and of `calls` upstream calls to end:
 * client spans end when undici sees the response's trailers, which may come after the answer.
 */
function spansSettled(calls: number, operations = 1, name = 'query Customer360'): Promise<void> {
  return exporter.until((spans) => spans.filter(isUpstream).length >= calls && spans.filter((span) => span.name === name).length >= operations);
}

/** An upstream call as explain lists it, and as its span says it: source, route and batch size. */
const callOf = (call: { source: unknown; route: unknown; batchSize: unknown }) => `${String(call.source)} ${String(call.route)} ${String(call.batchSize)}`;
const spanCall = (span: ReadableSpan) => callOf({ source: span.attributes[ATTR.source], route: span.attributes[ATTR.route], batchSize: span.attributes[ATTR.batchSize] });

async function customer360(first: number): Promise<FanoutEntry[]> {
  const response = await h.query(QUERY, { first }, { [EXPLAIN_HEADER]: '1' });
  expect(response.errors).toBeUndefined();
  return response.extensions!.fanout as FanoutEntry[];
}

describe('traces of the customer 360', () => {
  let fanouts: FanoutEntry[][];

  beforeAll(async () => {
    // Opens connections to every source (more to the support desk than one operation can use at
    // once), which the next two operations share while they wait for one another's connections.
    const warmUp = await customer360(50);
    // Every span of the warm-up ends before the exporter forgets them, so that none lands later among the measured ones.
    await spansSettled(warmUp.length);
    h.resetUpstream();
    exporter.reset();
    fanouts = await Promise.all([customer360(50), customer360(40)]);
    await spansSettled(fanouts.flat().length, 2);
  }, 30_000);

  it('has one client span per upstream call the sources counted, route by route', () => {
    const counted = h.upstream();
    const spans = upstreamSpans();
    expect(spans).toHaveLength(counted.total);
    expect(spans).toHaveLength(fanouts.flat().length);
    for (const system of SYSTEMS) {
      const byRoute: Record<string, number> = {};
      for (const span of spans.filter((s) => s.attributes[ATTR.source] === system)) {
        const route = `${String(span.attributes['http.request.method'])} ${String(span.attributes['url.template'])}`;
        byRoute[route] = (byRoute[route] ?? 0) + 1;
      }
      expect(byRoute).toEqual(counted[system]);
    }
  });

  it('puts each operation in its own trace: root span, a delegation span per source, each call under its delegation', () => {
    const spans = exporter.getFinishedSpans();
    const operations = spans.filter((span) => span.name === 'query Customer360');
    expect(operations).toHaveLength(2);
    expect(new Set(operations.map((op) => op.spanContext().traceId)).size).toBe(2);

    const callsByTrace: string[][] = [];
    for (const operation of operations) {
      const traceId = operation.spanContext().traceId;
      expect(operation.kind).toBe(SpanKind.SERVER);
      expect(operation.attributes['graphql.operation.name']).toBe('Customer360');
      expect(operation.attributes['graphql.operation.type']).toBe('query');

      const inTrace = spans.filter((span) => span.spanContext().traceId === traceId);
      const delegations = inTrace.filter((span) => span.name.startsWith('delegate '));
      expect(delegations.every((span) => parentOf(span) === idOf(operation))).toBe(true);
      expect(delegations.map((span) => `${span.attributes[ATTR.source]} ${span.attributes[ATTR.entity]} ${span.attributes[ATTR.lookup]}`).sort()).toEqual([
        'crm Customer list',
        'orders Order customerRef',
        'support Ticket requesterEmail',
      ]);

      // The crosswalk from CRM customers to order accounts: one batched store lookup, in this trace.
      const crosswalks = inTrace.filter((span) => span.name.startsWith('crosswalk '));
      expect(crosswalks.map((span) => [span.name, span.attributes[ATTR.direction]])).toEqual([['crosswalk customerOrders', 'forward']]);
      expect(crosswalks[0]!.attributes[ATTR.batchSize]).toBeGreaterThan(0);

      const calls = inTrace.filter((span) => span.kind === SpanKind.CLIENT && span.attributes[ATTR.source] !== undefined);
      expect(operation.attributes[ATTR.upstreamCalls]).toBe(calls.length);
      expect(operation.attributes[ATTR.operationCost]).toBeGreaterThan(0);
      callsByTrace.push(calls.map(spanCall).sort());
      for (const call of calls) {
        const delegation = delegations.find((span) => idOf(span) === parentOf(call));
        expect(delegation?.attributes[ATTR.source]).toBe(call.attributes[ATTR.source]);
        expect(call.attributes[ATTR.attempt]).toBe(1);
        expect(call.attributes[ATTR.cacheHit]).toBe(false);
        expect(call.attributes['http.response.status_code']).toBe(200);
        expect(call.name).toBe(call.attributes[ATTR.route]);
      }
      const support = delegations.find((span) => span.attributes[ATTR.source] === 'support')!;
      expect(calls.filter((call) => parentOf(call) === idOf(support))).toHaveLength(support.attributes[ATTR.batchSize] as number);
    }
    // Each trace holds exactly the calls that one of the two answers lists, and each answer has its trace.
    const callsByAnswer = fanouts.map((fanout) => fanout.map(callOf).sort());
    expect(callsByTrace.map((calls) => JSON.stringify(calls)).sort()).toEqual(callsByAnswer.map((calls) => JSON.stringify(calls)).sort());
  });

  it('sends each source a traceparent that names the client span of the call', () => {
    const byId = new Map(upstreamSpans().map((span) => [idOf(span), span]));
    for (const system of SYSTEMS) {
      const received = h.sandboxes[system].receivedTraceparents();
      expect(received).toHaveLength(Object.values(h.upstream()[system]).reduce((a, b) => a + b, 0));
      for (const header of received) {
        const [version, traceId, spanId, flags] = header.split('-');
        expect({ version, flags }).toEqual({ version: '00', flags: '01' });
        const span = byId.get(spanId!);
        expect(span?.spanContext().traceId).toBe(traceId);
        expect(span?.attributes[ATTR.source]).toBe(system);
      }
    }
  });

  it('exports no secret, no email and no query string, and logs none either', () => {
    const exported = JSON.stringify(
      exporter.getFinishedSpans().map((span) => ({
        name: span.name,
        attributes: span.attributes,
        events: span.events.map((event) => ({ name: event.name, attributes: event.attributes })),
        status: span.status,
        resource: span.resource.attributes,
      })),
    );
    const logged = JSON.stringify([...h.logs.app.entries(), ...h.logs.audit.entries()]);
    const emails = sandboxDataset().crm.contacts.slice(0, 50).flatMap((contact) => [contact.Email, normalizeEmail(contact.Email)]);
    const tokens = h.sandboxes.support.liveTokens();
    expect(tokens.length).toBeGreaterThan(0);
    const secrets = [SANDBOX_CREDENTIALS.crm.apiKey, SANDBOX_CREDENTIALS.support.clientSecret, DEMO_KEY, ...tokens];
    for (const text of [exported, logged]) {
      expect(secrets.filter((secret) => text.includes(secret))).toEqual([]);
      expect(emails.filter((email) => text.toLowerCase().includes(email.toLowerCase()))).toEqual([]);
      expect(text).not.toMatch(/\?|%40|requester_email|customer_refs=|emails=/);
    }
    const urls = upstreamSpans().map((span) => String(span.attributes['url.full']));
    expect(urls.every((url) => /^http:\/\/127\.0\.0\.1:\d+\/[\w/.{}]+$/.test(url))).toBe(true);
  });

  it('logs each operation with its trace id, and audits who asked for which sources and entities', () => {
    const traceIds = new Set(exporter.getFinishedSpans().filter((span) => span.name === 'query Customer360').map((span) => span.spanContext().traceId));
    const lines = h.logs.app.entries().filter((line) => traceIds.has(line.traceId as string));
    expect(lines).toHaveLength(2);
    for (const line of lines) {
      expect(line).toMatchObject({ log: 'app', msg: 'operation', operation: { type: 'query', name: 'Customer360' }, outcome: 'ok', sources: ['crm', 'orders', 'support'], errors: 0, client: 'key:demo' });
      expect(line.cost).toBeGreaterThan(0);
      expect(fanouts.map((fanout) => fanout.length)).toContain(line.upstreamCalls);
      expect(line.durationMs).toBeGreaterThan(0);
    }
    const audits = h.logs.audit.entries().filter((line) => traceIds.has(line.traceId as string));
    expect(audits).toHaveLength(2);
    for (const audit of audits) {
      expect(audit).toMatchObject({
        log: 'audit',
        operation: { type: 'query', name: 'Customer360' },
        sources: ['crm', 'orders', 'support'],
        entities: ['crm.Customer', 'orders.Order', 'support.Ticket'],
        client: { id: 'key:demo', kind: 'apiKey', subject: 'demo', keyId: 'demo', scopes: ['billing:read', 'customers:read', 'orders:read', 'pii:read', 'tickets:read'], address: '127.0.0.1' },
      });
    }
  });
});

describe('traces of calls the upstream-call cache answers', () => {
  const CUSTOMER = `query Customer($id: ID!) { customer(id: $id) { id name orders(first: 3) { number } tickets { subject } } }`;
  let cached: Harness;

  beforeAll(async () => {
    cached = await startHarness({
      cache: true,
      configure: (config) => ({ ...config, cache: { upstream: { ttlMs: 60_000 }, responses: { enabled: false } } }),
    });
  });
  afterAll(() => cached?.close());

  /** Asks for one customer, and returns the calls explain lists and the spans of the operation's trace. */
  async function traced(id: string): Promise<{ fanout: FanoutEntry[]; spans: ReadableSpan[] }> {
    exporter.reset();
    const response = await cached.query(CUSTOMER, { id }, { [EXPLAIN_HEADER]: '1' });
    expect(response.errors).toBeUndefined();
    const fanout = response.extensions!.fanout as FanoutEntry[];
    await spansSettled(fanout.filter((call) => !call.cacheHit).length, 1, 'query Customer');
    const operation = exporter.getFinishedSpans().find((span) => span.name === 'query Customer')!;
    return { fanout, spans: exporter.getFinishedSpans().filter((span) => span.spanContext().traceId === operation.spanContext().traceId) };
  }

  it('says virtualize.cache.hit false on a call sent to the source, and true on the span of a call the cache answered', async () => {
    const id = sandboxDataset().crm.contacts[11]!.Id;
    const cold = await traced(id);
    expect(cold.fanout.length).toBeGreaterThan(0);
    expect(cold.fanout.every((call) => !call.cacheHit)).toBe(true);
    const sent = cold.spans.filter(isUpstream);
    expect(sent.map(spanCall).sort()).toEqual(cold.fanout.map(callOf).sort());
    expect(sent.map((span) => span.attributes[ATTR.cacheHit])).toEqual(sent.map(() => false));
    expect(cold.spans.filter((span) => span.attributes[ATTR.cacheHit] === true)).toEqual([]);
    // The support desk's first call fetched a token first: a span of the token endpoint's own, not a second ticket call.
    const token = cold.spans.filter((span) => span.kind === SpanKind.CLIENT && String(span.attributes['url.full']).endsWith('/oauth/token'));
    expect(token.map((span) => [span.attributes['http.request.method'], span.attributes[ATTR.source], span.attributes[ATTR.route]])).toEqual([['POST', undefined, undefined]]);
    expect(cold.spans.find((span) => idOf(span) === parentOf(token[0]!))?.attributes[ATTR.source]).toBe('support');

    cached.resetUpstream();
    const hot = await traced(id);
    expect(cached.upstream().total).toBe(0);
    expect(hot.fanout.length).toBeGreaterThan(0);
    expect(hot.fanout.every((call) => call.cacheHit)).toBe(true);
    expect(hot.spans.filter(isUpstream)).toEqual([]);
    const answered = hot.spans.filter((span) => span.attributes[ATTR.cacheHit] === true);
    expect(answered.map(spanCall).sort()).toEqual(hot.fanout.map(callOf).sort());
    const operation = hot.spans.find((span) => span.name === 'query Customer')!;
    // The cache answered every call: the operation made none.
    expect(operation.attributes[ATTR.upstreamCalls]).toBe(0);
    for (const span of answered) {
      expect(span.kind).toBe(SpanKind.INTERNAL);
      expect(span.name).toBe(span.attributes[ATTR.route]);
      expect(span.name).toMatch(/^cache \w+\.\w+$/);
      expect(span.attributes[ATTR.attempt]).toBe(0);
      expect(span.attributes[ATTR.cacheAgeMs]).toEqual(expect.any(Number));
      const delegation = hot.spans.find((candidate) => idOf(candidate) === parentOf(span));
      expect(delegation?.name).toMatch(/^delegate /);
      expect(delegation?.attributes[ATTR.source]).toBe(span.attributes[ATTR.source]);
    }
  });
});
