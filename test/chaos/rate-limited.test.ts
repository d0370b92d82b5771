/**
 * The CRM answers 429 with Retry-After, and the gateway holds a client-side token bucket for it.
 * The gateway waits as long as the source asks (within maxRetryAfterMs), holds every call back
 * meanwhile, fails at once with SOURCE_RATE_LIMITED when the wait is longer than it may queue, and
 * queues its own bursts below the source's limit. Every wait is on a manual clock that the test
 * moves: what it shows is which call goes when, not how long the machine took.
 */
import { ManualClock } from '../support/manual-clock';
import { CUSTOMER_360, FAST, startChaos, type Chaos, type Customer360, type Response360 } from './chaos';

const CRM_LIST = 'GET /services/data/v58.0/query/Contact';
const BUCKET = { perSecond: 10, burst: 2, maxQueueWaitMs: 1_000 };
const clock = new ManualClock();
let chaos: Chaos;
beforeAll(async () => {
  chaos = await startChaos({ limits: { crm: { ...FAST, rateLimit: BUCKET } }, gateway: { sourceClock: clock } });
});
afterAll(() => chaos.h.close());

const crmCalls = () => chaos.h.upstream().crm[CRM_LIST] ?? 0;

it('waits out the Retry-After the source sends, then gets its answer with one retry', async () => {
  await chaos.h.sandboxes.crm.setKnobs({ rateLimitRate: 1, retryAfterSeconds: 1 });
  chaos.h.resetUpstream();
  let answered = false;
  const pending = chaos.h.query<Customer360>(CUSTOMER_360).finally(() => {
    answered = true;
  });
  // The 429 has come back and its retry waits out the Retry-After.
  await clock.untilTimers(1);
  expect(crmCalls()).toBe(1);
  await chaos.h.sandboxes.crm.setKnobs({ rateLimitRate: 0 });
  clock.advance(999);
  expect(clock.pendingTimers()).toBe(1);
  expect(answered).toBe(false);
  clock.advance(1);
  const res: Response360 = await pending;
  expect(res.errors).toBeUndefined();
  expect(res.data!.customers.nodes).toHaveLength(3);
  expect(crmCalls()).toBe(2);
});

it('fails at once with SOURCE_RATE_LIMITED when asked to wait longer than maxRetryAfterMs, and holds later calls back meanwhile', async () => {
  clock.advance(1_000); // the bucket fills up again
  await chaos.h.sandboxes.crm.setKnobs({ rateLimitRate: 1, retryAfterSeconds: 2 });
  chaos.h.resetUpstream();
  const refused: Response360 = await chaos.h.query(CUSTOMER_360);
  expect(crmCalls()).toBe(1);
  expect(refused.errors).toEqual([
    expect.objectContaining({
      path: ['customers'],
      extensions: { code: 'SOURCE_RATE_LIMITED', source: 'crm', route: 'GET /query/Contact' },
      message: 'Source crm is rate limiting the gateway (GET /query/Contact answered 429; not retried: the source asked to wait 2 s (Retry-After), longer than maxRetryAfterMs); try again shortly',
    }),
  ]);

  // The source would answer now, but it asked for two seconds: the gateway does not call it sooner,
  // and a call that would wait longer than it may queue fails at once.
  await chaos.h.sandboxes.crm.setKnobs({ rateLimitRate: 0 });
  const held: Response360 = await chaos.h.query(CUSTOMER_360);
  expect(crmCalls()).toBe(1);
  expect(held.errors?.[0]).toMatchObject({
    extensions: { code: 'SOURCE_RATE_LIMITED', source: 'crm' },
    message: expect.stringContaining('source crm asked the gateway to wait 2 s (Retry-After), longer than the 1000 ms a call may queue'),
  });

  // With half a second of the hold left, a call queues for it and goes when the hold ends.
  clock.advance(1_500);
  let answered = false;
  const queued = chaos.h.query<Customer360>(CUSTOMER_360).finally(() => {
    answered = true;
  });
  await clock.untilTimers(1);
  clock.advance(499);
  expect(answered).toBe(false);
  expect(crmCalls()).toBe(1);
  clock.advance(1);
  expect((await queued).errors).toBeUndefined();
  expect(crmCalls()).toBe(2);
});

it('queues its own bursts in the token bucket instead of sending them at once', async () => {
  clock.advance(1_000); // the bucket fills up again
  chaos.h.resetUpstream();
  const answers = Promise.all(Array.from({ length: 6 }, () => chaos.h.query<Customer360>(CUSTOMER_360)));
  // Two at once, then ten per second: the four others wait for their tokens, 100 ms apart.
  await clock.untilTimers(4);
  for (const waiting of [3, 2, 1, 0]) {
    clock.advance(100);
    expect(clock.pendingTimers()).toBe(waiting);
  }
  expect((await answers).every((res) => res.errors === undefined)).toBe(true);
  expect(crmCalls()).toBe(6);
});

it('leaves no unhandled rejection and no open socket', async () => {
  const { unhandledRejections, socketsOpen, socketsBefore } = await chaos.finish();
  expect(unhandledRejections).toEqual([]);
  expect(socketsOpen).toBeLessThanOrEqual(socketsBefore);
});
