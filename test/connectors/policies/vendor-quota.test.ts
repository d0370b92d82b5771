import { Pool } from 'undici';
import { rateLimitPolicyDefinition, type RateLimitPolicy } from '../../../src/config/definition';
import { RateLimitWaitError } from '../../../src/connectors/errors';
import { newCallRecord } from '../../../src/connectors/policies/attempt';
import { classifyFailure } from '../../../src/connectors/status-classification';
import { CODES } from '../../../src/errors/codes';
import { SourceRateLimiter } from '../../../src/connectors/policies/rate-limit';
import { QuotaWaitError } from '../../../src/connectors/policies/vendor-quota';
import { startFakeSource, type Answer, type FakeSource } from '../../support/fake-source';
import { ManualClock } from '../../support/manual-clock';

const SHOPIFY = 'X-Shopify-Shop-Api-Call-Limit';

/**
 * Sources on 127.0.0.1 that keep their own quota on the same manual clock and report it as the
 * vendor does: a Shopify leaky bucket (size 10, leaking 2 per second, 429 with `Retry-After: 2.0`
 * when full) and a HubSpot window (5 calls per 10 s). The gateway's own bucket is wide, so that
 * every wait seen comes from the reported quota or a Retry-After.
 */
describe('a source\'s reported quota (remainingHeader)', () => {
  let source: FakeSource;
  let pool: Pool;
  let clock: ManualClock;
  let limiter: SourceRateLimiter;
  afterEach(async () => {
    await pool.close();
    await source.close();
  });

  async function setUp(limits: Partial<RateLimitPolicy>, answer: () => Answer) {
    source = await startFakeSource(() => answer());
    pool = new Pool(source.origin, { connections: 50 });
    limiter = new SourceRateLimiter('shop', rateLimitPolicyDefinition.parse({ perSecond: 1_000, burst: 100, maxQueueWaitMs: 5_000, ...limits }), clock);
    const dispatcher = pool.compose(limiter.interceptor());
    return () =>
      dispatcher.request({ method: 'GET', path: '/admin/api/2024-01/orders.json' }).then(
        async (response) => {
          await response.body.text();
          return response.statusCode;
        },
        (error: Error) => error,
      );
  }

  /** Shopify's leaky bucket on the manual clock; `drain` spends calls as another app would. */
  function shopifyBucket(size = 10, leakPerSecond = 2) {
    let level = 0;
    let at = clock.now();
    const leak = () => {
      level = Math.max(0, level - ((clock.now() - at) * leakPerSecond) / 1000);
      at = clock.now();
    };
    const bucket = {
      over: 0,
      drain: (calls: number) => {
        leak();
        level = Math.min(size, level + calls);
      },
      answer: (): Answer => {
        leak();
        if (level + 1 > size) {
          bucket.over += 1;
          return { status: 429, headers: { 'retry-after': '2.0', [SHOPIFY]: `${size}/${size}` } };
        }
        level += 1;
        return { headers: { [SHOPIFY]: `${Math.ceil(level)}/${size}` } };
      },
    };
    return bucket;
  }

  beforeEach(() => {
    clock = new ManualClock();
  });

  const shopify = { remainingHeader: { header: SHOPIFY, form: 'used/size' as const, leakPerSecond: 2, reserve: 2 } };

  it('holds calls once the Shopify bucket is at the reserve and releases them as it leaks', async () => {
    const bucket = shopifyBucket();
    const get = await setUp(shopify, bucket.answer);
    expect(await get()).toBe(200); // 1/10: eight more may go before the reserve of two
    const outcomes = Array.from({ length: 10 }, get);
    await clock.untilTimers(3);
    expect(await Promise.all(outcomes.slice(0, 7))).toEqual(Array.from({ length: 7 }, () => 200));
    expect(source.requests).toHaveLength(8);
    // One call leaks every 500 ms: the three held calls leave at 500, 1,000 and 1,500 ms.
    clock.advance(499);
    expect(source.requests).toHaveLength(8);
    for (let sent = 9; sent <= 11; sent += 1) {
      clock.advance(1);
      await outcomes[sent - 2];
      expect(source.requests).toHaveLength(sent);
      clock.advance(499);
    }
    expect(await Promise.all(outcomes)).toEqual(Array.from({ length: 10 }, () => 200));
    expect(bucket.over).toBe(0);
  });

  it('without the header declared, the same calls overflow the bucket (the fixture can tell)', async () => {
    const bucket = shopifyBucket();
    const get = await setUp({}, bucket.answer);
    expect(await get()).toBe(200);
    const outcomes = await Promise.all(Array.from({ length: 10 }, get));
    expect(outcomes.filter((o) => o === 429)).toHaveLength(1);
    expect(bucket.over).toBe(1);
  });

  it('still honours a 429 with Retry-After when another client emptied the bucket', async () => {
    const bucket = shopifyBucket();
    const get = await setUp(shopify, bucket.answer);
    expect(await get()).toBe(200);
    bucket.drain(10);
    expect(await get()).toBe(429); // the gateway's reading said 9 left; the bucket was full
    const held = get();
    await clock.untilTimers(1);
    // The 429's 10/10 alone would free room above the reserve in 1,500 ms; Retry-After says 2 s.
    clock.advance(1_999);
    expect(source.requests).toHaveLength(2);
    clock.advance(1);
    expect(await held).toBe(200);
    expect(source.requests).toHaveLength(3);
  });

  it('fails at once with SOURCE_RATE_LIMITED, naming the source and header, a call that would wait longer than maxQueueWaitMs', async () => {
    const bucket = shopifyBucket();
    const get = await setUp({ ...shopify, maxQueueWaitMs: 400 }, bucket.answer);
    bucket.drain(7);
    expect(await get()).toBe(200); // 8/10: at the reserve
    const refused = await get();
    expect(refused).toBeInstanceOf(QuotaWaitError);
    expect(refused).toBeInstanceOf(RateLimitWaitError);
    expect((refused as Error).message).toBe(
      'source shop reports its quota at the reserve (X-Shopify-Shop-Api-Call-Limit): room frees in 500 ms, longer than the 400 ms a call may queue',
    );
    const classified = classifyFailure({ name: 'shop', timeoutMs: 10_000, maxResponseBytes: 1_024, secrets: [] }, refused, 'GET /orders.json', newCallRecord());
    expect(classified.code).toBe(CODES.SOURCE_RATE_LIMITED);
    expect(classified.message).toContain('X-Shopify-Shop-Api-Call-Limit');
    expect(source.requests).toHaveLength(1);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('ignores and counts values it cannot read, and keeps sending', async () => {
    const values = ['abc', '40/0', '3/40/1', '-1/40', ''];
    let n = 0;
    const get = await setUp(shopify, () => ({ headers: { [SHOPIFY]: values[n++ % values.length]! } }));
    const outcomes = await Promise.all(Array.from({ length: 12 }, get));
    expect(outcomes.every((o) => o === 200)).toBe(true);
    expect(limiter.quota?.unreadable).toBe(12);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('holds HubSpot calls at the reserve until the window the interval header gives has passed', async () => {
    let windowStart = clock.now();
    let used = 0;
    const get = await setUp(
      { maxQueueWaitMs: 15_000, remainingHeader: { header: 'X-HubSpot-RateLimit-Remaining', intervalHeader: 'X-HubSpot-RateLimit-Interval-Milliseconds', reserve: 1, form: 'remaining' } },
      () => {
        if (clock.now() - windowStart >= 10_000) {
          windowStart = clock.now();
          used = 0;
        }
        used += 1;
        const headers = { 'X-HubSpot-RateLimit-Max': '5', 'X-HubSpot-RateLimit-Remaining': String(Math.max(0, 5 - used)), 'X-HubSpot-RateLimit-Interval-Milliseconds': '10000' };
        return used > 5 ? { status: 429, headers } : { headers };
      },
    );
    for (let i = 0; i < 4; i += 1) expect(await get()).toBe(200); // one left: the reserve
    const held = get();
    await clock.untilTimers(1);
    clock.advance(9_999);
    expect(source.requests).toHaveLength(4);
    clock.advance(1);
    expect(await held).toBe(200);
    expect(source.requests).toHaveLength(5);
    expect(used).toBe(1); // a new window
  });

  it('reads the IETF draft headers (ratelimit-remaining, ratelimit-reset in seconds)', async () => {
    const get = await setUp({ remainingHeader: { header: 'RateLimit-Remaining', resetHeader: 'RateLimit-Reset', reserve: 0, form: 'remaining' } }, () => ({
      headers: { 'ratelimit-limit': '700', 'ratelimit-remaining': '0', 'ratelimit-reset': '3' },
    }));
    expect(await get()).toBe(200);
    const held = get();
    await clock.untilTimers(1);
    clock.advance(2_999);
    expect(source.requests).toHaveLength(1);
    clock.advance(1);
    expect(await held).toBe(200);
  });
});

describe('remainingHeader in the definition', () => {
  it('takes one way room frees, and says which when none or two are given', () => {
    expect(rateLimitPolicyDefinition.parse({ perSecond: 2, remainingHeader: { header: SHOPIFY, form: 'used/size', leakPerSecond: 2 } }).remainingHeader).toEqual({
      header: SHOPIFY,
      form: 'used/size',
      leakPerSecond: 2,
      reserve: 1,
    });
    for (const remainingHeader of [{ header: 'X-Rate-Limit-Remaining' }, { header: 'ratelimit-remaining', resetHeader: 'ratelimit-reset', leakPerSecond: 1 }]) {
      const result = rateLimitPolicyDefinition.safeParse({ perSecond: 2, remainingHeader });
      expect(result.success).toBe(false);
      expect(result.error?.issues[0]?.message).toMatch(/exactly one of leakPerSecond .* resetHeader .* or intervalHeader/);
    }
    expect(rateLimitPolicyDefinition.safeParse({ perSecond: 2, remainingHeader: { header: 'not a header', leakPerSecond: 1 } }).success).toBe(false);
  });
});
