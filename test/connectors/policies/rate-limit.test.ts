import { Pool } from 'undici';
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
