/**
 * Webhooks cannot be turned against the sources. A flood of signed events about a few records
 * costs one identity resolution per record (events about one record within `coalesceMs` share it),
 * counted at the sandboxes; distinct records beyond `resolveRate` are applied to what the gateway
 * knows without calling a source and answered 429 with Retry-After; /metrics counts each outcome.
 * Outside sandbox mode, a webhook whose secret is unset or the published sandbox default refuses
 * to start. An oversized body is answered 413, read by the client.
 */
import { signedDelivery } from '../../sources/sandbox';
import { validateConfig } from '../../src/config/validate';
import baseConfig from '../../virtualization.config';
import { data, orderRefsOf } from '../integration/ground-truth';
import { startHarness, startTestRuntime, type Harness } from '../support/harness';
import { ManualClock } from '../support/manual-clock';

const SECRET = 'flood-test-webhook-secret';
const REFS = data.crm.contacts.flatMap((contact) => orderRefsOf(contact.Id)).slice(0, 40);
const notice = (ref: number) => ({ type: 'order.created', entity: 'Order', field: 'customerRef', key: String(ref) });

interface Delivered {
  status: number;
  retryAfter: string | null;
  body: { status?: string; errors?: Array<{ message: string; extensions: Record<string, unknown> }> };
}

async function startFlooded(clock: ManualClock, webhooks: Record<string, unknown> = {}): Promise<Harness> {
  return startHarness({
    clock,
    // The harness's cache switch replaces the whole cache section; the webhooks are set here instead, with the tiers off.
    cache: true,
    env: { ORDERS_WEBHOOK_SECRET: SECRET },
    configure: (config) => ({
      ...config,
      cache: { upstream: { enabled: false }, responses: { enabled: false }, webhooks: { secrets: { orders: { env: 'ORDERS_WEBHOOK_SECRET' } }, ...webhooks } },
    }),
  });
}

function deliverer(h: Harness, clock: ManualClock) {
  return async (ref: number, id: string): Promise<Delivered> => {
    const { body, signature } = signedDelivery(SECRET, notice(ref), id, clock.wallNow());
    const response = await fetch(`${h.server.url}/webhooks/orders`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-virtualize-signature': signature }, body });
    return { status: response.status, retryAfter: response.headers.get('retry-after'), body: (await response.json()) as Delivered['body'] };
  };
}

/** `virtualize_webhook_resolutions_total` by outcome, for one source, as /metrics serves it. */
async function resolutions(h: Harness, source: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${h.server.url}/metrics`)).text();
  const counts: Record<string, number> = {};
  for (const match of text.matchAll(/^virtualize_webhook_resolutions_total\{([^}]*)\} (\d+)$/gm)) {
    const labels = Object.fromEntries([...match[1]!.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (labels.source === source) counts[labels.outcome!] = Number(match[2]);
  }
  return counts;
}

describe('a flood of events about a few records', () => {
  const clock = new ManualClock();
  let h: Harness;
  beforeAll(async () => {
    h = await startFlooded(clock);
  });
  afterAll(() => h?.close());

  it('resolves each record once within the window: upstream calls are bounded by records, not events', async () => {
    const deliver = deliverer(h, clock);
    const records = REFS.slice(0, 5);
    // What resolving each record once costs, measured rather than assumed.
    h.resetUpstream();
    for (const [i, ref] of records.entries()) expect((await deliver(ref, `once-${i}`)).status).toBe(202);
    const oneEach = h.upstream().total;
    expect(oneEach).toBeGreaterThanOrEqual(records.length);

    clock.advance(1_001);
    h.resetUpstream();
    const answers: Delivered[] = [];
    // 500 events, 100 about each record, in waves of 50 at once.
    for (let wave = 0; wave < 10; wave++) {
      answers.push(...(await Promise.all(Array.from({ length: 50 }, (_, i) => deliver(records[i % records.length]!, `flood-${wave}-${i}`)))));
    }
    expect(answers.map((answer) => answer.status)).toEqual(answers.map(() => 202));
    // 500 events cost what 5 do: each record followed through the sources once.
    expect(h.upstream().total).toBe(oneEach);
    expect(await resolutions(h, 'orders')).toEqual({ resolved: 2 * records.length, coalesced: 500 - records.length });

    // Past the window (1 s by default; an event exactly at its end still shares), the same record is followed through the sources again.
    clock.advance(1_000);
    h.resetUpstream();
    expect((await deliver(records[0]!, 'at-window-end')).status).toBe(202);
    expect(h.upstream().total).toBe(0);
    clock.advance(1);
    h.resetUpstream();
    expect((await deliver(records[0]!, 'after-window')).status).toBe(202);
    expect(h.upstream().total).toBeGreaterThan(0);
    expect((await fetch(`${h.server.url}/healthz`)).status).toBe(200);
  });

  it('answers 413 to a body over the limit, and the client reads it (no reset)', async () => {
    const body = JSON.stringify({ ...notice(REFS[0]!), id: 'large', occurredAt: clock.wallNow(), padding: 'x'.repeat(8 * 1024 * 1024) });
    h.resetUpstream();
    const response = await fetch(`${h.server.url}/webhooks/orders`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-virtualize-signature': 'sha256=00' }, body });
    expect(response.status).toBe(413);
    expect(((await response.json()) as Delivered['body']).errors![0]!.extensions.code).toBe('REQUEST_TOO_LARGE');
    expect(h.upstream().total).toBe(0);
    expect((await fetch(`${h.server.url}/healthz`)).status).toBe(200);
  });
});

describe('events about many records beyond the resolve rate', () => {
  const clock = new ManualClock();
  let h: Harness;
  beforeAll(async () => {
    h = await startFlooded(clock, { resolveRate: { perSecond: 2, burst: 3 } });
  });
  afterAll(() => h?.close());

  it('follows `burst` of them through the sources, applies the rest locally with 429 and Retry-After, and takes them once the rate allows', async () => {
    const deliver = deliverer(h, clock);
    h.resetUpstream();
    const answers: Delivered[] = [];
    for (const [i, ref] of REFS.slice(0, 10).entries()) answers.push(await deliver(ref, `many-${i}`));
    expect(answers.map((answer) => answer.status)).toEqual([202, 202, 202, 429, 429, 429, 429, 429, 429, 429]);
    const resolvedCalls = h.upstream().total;
    for (const refused of answers.slice(3)) {
      expect(refused.retryAfter).toBe('1');
      expect(refused.body.errors).toEqual([{ message: expect.stringContaining('deliver it again in 1 s'), extensions: { code: 'WEBHOOK_RATE_LIMITED', source: 'orders', retryAfterSeconds: 1 } }]);
    }
    // The seven refused cost no upstream call: what they dropped came from the mappings alone.
    h.resetUpstream();
    await deliver(REFS[9]!, 'many-9-again');
    expect(h.upstream().total).toBe(0);
    expect(resolvedCalls).toBeGreaterThan(0);
    const limited = h.logs.app.entries().filter((line) => line.msg === 'webhook rate limited; applied to what is known');
    expect(limited).toHaveLength(8);
    expect(limited.every((line) => (line.identities as number) >= 2)).toBe(true);

    // Half a second later one token is back: the first refused delivery, sent again, is applied in full.
    clock.advance(500);
    h.resetUpstream();
    expect((await deliver(REFS[3]!, 'many-3')).status).toBe(202);
    expect(h.upstream().total).toBeGreaterThan(0);
    expect(await resolutions(h, 'orders')).toEqual({ resolved: 4, rate_limited: 8 });
  });
});

describe('outside sandbox mode', () => {
  const start = (env: NodeJS.ProcessEnv) => startTestRuntime(baseConfig, { env, sandbox: false });
  const unsafe = { name: 'VirtualizeError', code: 'WEBHOOK_SECRET_UNSAFE' };

  it('refuses to start while a webhook secret is unset, naming each variable', async () => {
    const refused = start({ ORDERS_WEBHOOK_SECRET: 'an-operator-chosen-secret' });
    await expect(refused).rejects.toMatchObject(unsafe);
    const message = (await refused.catch((error: Error) => error.message)) as string;
    expect(message).toContain('crm (CRM_WEBHOOK_SECRET is not set; its default is the published sandbox secret)');
    expect(message).toContain('support (SUPPORT_WEBHOOK_SECRET is not set');
    expect(message).not.toContain('ORDERS_WEBHOOK_SECRET');
    expect(message).not.toContain('an-operator-chosen-secret');
  });

  it('refuses the published sandbox secret even when the variable is set to it', async () => {
    const published = validateConfig(baseConfig).cache.webhooks.secrets;
    const defaults = Object.fromEntries(Object.values(published).map((ref) => (typeof ref === 'string' ? ['', ''] : [ref.env, ref.default ?? ''])));
    const refused = start(defaults);
    await expect(refused).rejects.toMatchObject(unsafe);
    const message = (await refused.catch((error: Error) => error.message)) as string;
    expect(message).toContain('orders (ORDERS_WEBHOOK_SECRET holds the published sandbox secret)');
    for (const secret of Object.values(defaults)) if (secret) expect(message).not.toContain(secret);
  });

  it('starts with secrets of its own', async () => {
    const runtime = await start({ CRM_WEBHOOK_SECRET: 'own-crm-secret', ORDERS_WEBHOOK_SECRET: 'own-orders-secret', SUPPORT_WEBHOOK_SECRET: 'own-support-secret' });
    try {
      expect((await fetch(`${runtime.url}/healthz`)).status).toBe(200);
    } finally {
      await runtime.close();
    }
  });
});
