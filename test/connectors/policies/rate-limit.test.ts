import { Pool, type Dispatcher } from 'undici';
import { rateLimitPolicyDefinition, type RateLimitPolicy } from '../../../src/config/definition';
import { RateLimitWaitError } from '../../../src/connectors/errors';
import { SourceRateLimiter } from '../../../src/connectors/policies/rate-limit';
import { startFakeSource, type Answer, type FakeSource } from '../../support/fake-source';
import { ManualClock } from '../../support/manual-clock';

/**
 * The bucket fills and its calls wait on a manual clock: each test says which calls go at once,
 * which wait and for how long, by moving the clock and counting the calls still waiting.
 */
describe('rate limit', () => {
  let source: FakeSource;
  let pool: Pool;
  let clock: ManualClock;
  afterEach(async () => {
    await pool.close();
    await source.close();
  });

  async function setUp(limits: Partial<RateLimitPolicy> & { perSecond: number }, script: (n: number) => Answer = () => ({})) {
    source = await startFakeSource(({ n }) => script(n));
    pool = new Pool(source.origin, { connections: 50 });
    clock = new ManualClock();
    const dispatcher = pool.compose(new SourceRateLimiter('crm', rateLimitPolicyDefinition.parse(limits), clock).interceptor());
    return () =>
      dispatcher.request({ method: 'GET', path: '/x' }).then(
        async (response) => {
          await response.body.text();
          return response.statusCode;
        },
        (error: Error) => error,
      );
  }

  it('sends a burst at once, then no faster than perSecond', async () => {
    const get = await setUp({ perSecond: 20, burst: 5, maxQueueWaitMs: 5_000 });
    const outcomes = Promise.all(Array.from({ length: 15 }, get));
    // Five go at once; the ten others wait for their tokens, one every 50 ms.
    await clock.untilTimers(10);
    clock.advance(49);
    expect(clock.pendingTimers()).toBe(10);
    clock.advance(1);
    for (let waiting = 9; waiting > 0; waiting -= 1) {
      expect(clock.pendingTimers()).toBe(waiting);
      clock.advance(50);
    }
    expect(clock.pendingTimers()).toBe(0);
    expect((await outcomes).every((o) => o === 200)).toBe(true);
    expect(source.requests).toHaveLength(15);
  });

  it('fails at once, with no request sent, a call that would queue longer than maxQueueWaitMs', async () => {
    const get = await setUp({ perSecond: 10, burst: 1, maxQueueWaitMs: 250 });
    const outcomes = Array.from({ length: 10 }, get);
    // One now, two within 250 ms (at 100 and 200 ms); the seven others are refused without the clock moving.
    const refused = await Promise.all(outcomes.slice(3));
    expect(refused.every((o) => o instanceof RateLimitWaitError)).toBe(true);
    expect((refused[0] as Error).message).toMatch(/rate limit for source crm would queue this call 300 ms, longer than its maxQueueWaitMs of 250 ms/);
    expect(clock.pendingTimers()).toBe(2);
    clock.advance(200);
    expect(await Promise.all(outcomes.slice(0, 3))).toEqual([200, 200, 200]);
    expect(source.requests).toHaveLength(3);
  });

  it('holds every call back while the source asks to wait (Retry-After), and refuses calls that cannot wait that long', async () => {
    const get = await setUp({ perSecond: 1_000, maxQueueWaitMs: 1_500 }, (n) => (n === 1 ? { status: 429, headers: { 'retry-after': '1' } } : {}));
    expect(await get()).toBe(429);
    const held = get();
    await clock.untilTimers(1);
    clock.advance(999);
    expect(clock.pendingTimers()).toBe(1);
    expect(source.requests).toHaveLength(1);
    clock.advance(1);
    expect(await held).toBe(200);

    const impatient = await setUpAgain({ perSecond: 1_000, maxQueueWaitMs: 200 });
    expect(await impatient()).toBe(429);
    const refused = await impatient();
    expect(refused).toBeInstanceOf(RateLimitWaitError);
    expect((refused as RateLimitWaitError).sourceAskedToWait).toBe(true);
    expect((refused as Error).message).toContain('asked the gateway to wait 1 s (Retry-After)');
  });

  async function setUpAgain(limits: Partial<RateLimitPolicy> & { perSecond: number }) {
    await pool.close();
    await source.close();
    return setUp(limits, (n) => (n === 1 ? { status: 429, headers: { 'retry-after': '1' } } : {}));
  }
});

/**
 * The bucket alone, in front of a dispatch that only notes the clock's time of each call it is
 * given: what leaves when, after a Retry-After hold, and what a throw below the limit becomes.
 */
describe('rate limit after a hold', () => {
  const request: Dispatcher.DispatchOptions = { method: 'GET', path: '/x', origin: 'http://127.0.0.1' };

  function limited(limits: Partial<RateLimitPolicy> & { perSecond: number }) {
    const clock = new ManualClock();
    const limiter = new SourceRateLimiter('crm', rateLimitPolicyDefinition.parse(limits), clock);
    const sentAt: number[] = [];
    const refused: Error[] = [];
    const handler: Dispatcher.DispatchHandler = { onResponseError: (_controller, error) => void refused.push(error) };
    const dispatch = limiter.interceptor()(() => {
      sentAt.push(clock.now() - start);
      return true;
    });
    const start = clock.now();
    const call = (times = 1) => {
      for (let i = 0; i < times; i += 1) dispatch(request, handler);
    };
    /** Moves the clock in `stepMs` steps up to `untilMs` after the start: how many calls left at each step. */
    const releasedPerStep = (stepMs: number, untilMs: number) => {
      const counts: number[] = [];
      while (clock.now() - start < untilMs) {
        const before = sentAt.length;
        clock.advance(stepMs);
        counts.push(sentAt.length - before);
      }
      return counts;
    };
    return { clock, limiter, sentAt, refused, call, releasedPerStep, start };
  }

  it('sends no more than burst at once when a hold ends, then no faster than perSecond', () => {
    const { limiter, sentAt, refused, call, releasedPerStep } = limited({ perSecond: 5, burst: 5, maxQueueWaitMs: 20_000 });
    limiter.holdFor(10_000);
    call(40);
    expect(sentAt).toEqual([]);
    const counts = releasedPerStep(100, 18_000);
    expect(refused).toEqual([]);
    expect(sentAt).toHaveLength(40);
    // Nothing during the hold; five when it ends (a full bucket), then one every 200 ms.
    expect(counts.slice(0, 99).every((n) => n === 0)).toBe(true);
    expect(Math.max(...counts)).toBe(5);
    expect(counts[99]).toBe(5);
    expect(sentAt.slice(0, 5)).toEqual([10_000, 10_000, 10_000, 10_000, 10_000]);
    expect(sentAt.slice(5)).toEqual(Array.from({ length: 35 }, (_, i) => 10_200 + 200 * i));
    // In any window after the hold, at most burst plus what perSecond allows in it.
    let worst = 0;
    for (let from = 0; from < counts.length; from += 1) {
      let sent = 0;
      for (let to = from; to < counts.length; to += 1) {
        sent += counts[to]!;
        worst = Math.max(worst, sent - (5 + ((to - from) * 100 * 5) / 1_000));
      }
    }
    expect(worst).toBeLessThanOrEqual(0);
  });

  it('refills the bucket during a hold, never above burst', () => {
    const { clock, limiter, sentAt, refused, call } = limited({ perSecond: 5, burst: 5, maxQueueWaitMs: 70_000 });
    call(5); // the bucket is empty
    expect(sentAt).toEqual([0, 0, 0, 0, 0]);
    limiter.holdFor(400);
    call(4);
    clock.advance(400);
    // 400 ms at 5/s filled two tokens: two leave as the hold ends, the others in turn.
    expect(sentAt.slice(5)).toEqual([400, 400]);
    clock.advance(400);
    expect(sentAt.slice(5)).toEqual([400, 400, 600, 800]);

    // A hold far longer than the bucket takes to fill leaves it full, no fuller.
    limiter.holdFor(60_000);
    call(7);
    clock.advance(60_000);
    expect(sentAt.slice(9)).toEqual(Array.from({ length: 5 }, () => 60_800));
    clock.advance(400);
    expect(sentAt.slice(14)).toEqual([61_000, 61_200]);
    expect(refused).toEqual([]);
  });

  it('refuses, during a hold, exactly the calls that would wait longer than maxQueueWaitMs', () => {
    const { clock, limiter, sentAt, refused, call } = limited({ perSecond: 10, burst: 1, maxQueueWaitMs: 650 });
    call(); // takes the only token
    limiter.holdFor(500);
    // The bucket refills during the hold: the next call waits 500 ms (the hold, not the hold and
    // its token's 100 ms), the one after it 600 ms, both within 650; the fourth would wait 700.
    call(3);
    expect(refused).toHaveLength(1);
    expect(refused[0]).toBeInstanceOf(RateLimitWaitError);
    expect((refused[0] as RateLimitWaitError).waitMs).toBe(700);
    expect((refused[0] as RateLimitWaitError).sourceAskedToWait).toBe(true);
    clock.advance(650);
    expect(sentAt).toEqual([0, 500, 600]);
    // A refused call takes nothing: the next one is in turn right behind the last accepted.
    call();
    clock.advance(50);
    expect(sentAt).toEqual([0, 500, 600, 700]);
  });

  it('refuses through the handler a call whose dispatch throws when its turn comes', () => {
    const clock = new ManualClock();
    const limiter = new SourceRateLimiter('crm', rateLimitPolicyDefinition.parse({ perSecond: 10, burst: 1 }), clock);
    const failure = new Error('the pool is closed');
    const dispatch = limiter.interceptor()(() => {
      throw failure;
    });
    const errors: Error[] = [];
    const handler: Dispatcher.DispatchHandler = { onResponseError: (_controller, error) => void errors.push(error) };
    expect(() => dispatch(request, handler)).toThrow(failure); // no wait: the caller's own dispatch throws
    expect(dispatch(request, handler)).toBe(true);
    expect(() => clock.advance(100)).not.toThrow();
    expect(errors).toEqual([failure]);
  });
});
