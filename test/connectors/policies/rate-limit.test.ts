import { Pool } from 'undici';
import { rateLimitPolicyDefinition, type RateLimitPolicy } from '../../../src/config/definition';
import { RateLimitWaitError } from '../../../src/connectors/errors';
import { SourceRateLimiter } from '../../../src/connectors/policies/rate-limit';
import { startFakeSource, type Answer, type FakeSource } from '../../support/fake-source';

describe('rate limit', () => {
  let source: FakeSource;
  let pool: Pool;
  afterEach(async () => {
    await pool.close();
    await source.close();
  });

  async function setUp(limits: Partial<RateLimitPolicy> & { perSecond: number }, script: (n: number) => Answer = () => ({})) {
    source = await startFakeSource(({ n }) => script(n));
    pool = new Pool(source.origin, { connections: 50 });
    const dispatcher = pool.compose(new SourceRateLimiter('crm', rateLimitPolicyDefinition.parse(limits)).interceptor());
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
    // Open the connections first, so that the burst below measures the bucket, not TCP handshakes.
    await Promise.all(Array.from({ length: 15 }, () => pool.request({ method: 'GET', path: '/warm' }).then((r) => r.body.text())));
    source.requests.length = 0;
    const started = Date.now();
    const outcomes = await Promise.all(Array.from({ length: 15 }, get));
    expect(outcomes.every((o) => o === 200)).toBe(true);
    const arrivals = source.requests.map((r) => r.at - started).sort((a, b) => a - b);
    // The i-th request cannot arrive before its token exists: five at once, then one per 50 ms.
    arrivals.forEach((ms, i) => expect(ms).toBeGreaterThanOrEqual(Math.max(0, i - 4) * 50 - 5));
    // The burst goes out together; the last five wait for tokens at least 200 ms apart.
    expect(arrivals[4]! - arrivals[0]!).toBeLessThan(arrivals[14]! - arrivals[10]!);
    expect(arrivals[14]).toBeGreaterThanOrEqual(495);
  });

  it('fails at once, with no request sent, a call that would queue longer than maxQueueWaitMs', async () => {
    const get = await setUp({ perSecond: 10, burst: 1, maxQueueWaitMs: 250 });
    const started = Date.now();
    const outcomes = await Promise.all(Array.from({ length: 10 }, () => get().then((o) => ({ o, ms: Date.now() - started }))));
    const refused = outcomes.filter(({ o }) => o instanceof RateLimitWaitError);
    const accepted = outcomes.filter(({ o }) => o === 200);
    expect(accepted).toHaveLength(3); // one now, two within 250 ms
    expect(refused).toHaveLength(7);
    // Refused at once: before the last accepted call, which waited about 200 ms for its token.
    expect(Math.max(...refused.map(({ ms }) => ms))).toBeLessThan(Math.max(...accepted.map(({ ms }) => ms)));
    expect((refused[0]!.o as Error).message).toMatch(/rate limit for source crm would queue this call \d+ ms, longer than its maxQueueWaitMs of 250 ms/);
    expect(source.requests).toHaveLength(3);
  });

  it('holds every call back while the source asks to wait (Retry-After), and refuses calls that cannot wait that long', async () => {
    const get = await setUp({ perSecond: 1_000, maxQueueWaitMs: 1_500 }, (n) => (n === 1 ? { status: 429, headers: { 'retry-after': '1' } } : {}));
    expect(await get()).toBe(429);
    const started = Date.now();
    expect(await get()).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);

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
