/**
 * The order of the policies, seen from outside (SourceHttpClient over the composed dispatcher):
 * retries are judged by the rate limit afresh, an open breaker refuses before the rate limit, and
 * a call refused before any attempt reports 0 attempts.
 */
import { sourceDefinition, type LimitsInput } from '../../src/config/definition';
import type { UpstreamCall } from '../../src/connectors/upstream-call';
import { SourceHttpClient } from '../../src/connectors/http-client';
import { startFakeSource, type FakeSource } from '../support/fake-source';

describe('policy order', () => {
  let source: FakeSource;
  let client: SourceHttpClient | undefined;
  beforeEach(async () => {
    source = await startFakeSource(() => ({ status: 503 }));
  });
  afterEach(async () => {
    await client?.close();
    await source.close();
  });

  function clientWith(limits: LimitsInput): SourceHttpClient {
    client = new SourceHttpClient('orders', sourceDefinition.parse({ baseUrl: source.origin, limits, entities: {} }));
    return client;
  }

  async function call(c: SourceHttpClient): Promise<{ code: string; message: string; attempts: number }> {
    let observed: UpstreamCall | undefined;
    const error = (await c.getJson('/orders', 'GET /orders', 1, (o) => (observed = o)).catch((e: unknown) => e)) as { code: string; message: string };
    return { code: error.code, message: error.message, attempts: observed!.attempts };
  }

  it('takes a token of the rate limit for every retry', async () => {
    const c = clientWith({ retry: { maxAttempts: 3, baseDelayMs: 0, maxDelayMs: 0 }, breaker: false, rateLimit: { perSecond: 0.5, burst: 2, maxQueueWaitMs: 0 } });
    const outcome = await call(c);
    expect(outcome).toMatchObject({ code: 'SOURCE_RATE_LIMITED', attempts: 2 });
    expect(outcome.message).toMatch(/^Source orders is rate limited \(GET \/orders\): the gateway's rate limit for source orders would queue this call \d+ ms/);
    expect(source.requests).toHaveLength(2);
  });

  it('refuses at the open breaker before the rate limit, and reports no attempt', async () => {
    const c = clientWith({ retry: false, breaker: { minimumAttempts: 2, openMs: 60_000 }, rateLimit: { perSecond: 0.5, burst: 2, maxQueueWaitMs: 0 } });
    expect(await call(c)).toMatchObject({ code: 'SOURCE_UNAVAILABLE', attempts: 1 });
    expect(await call(c)).toMatchObject({ code: 'SOURCE_UNAVAILABLE', attempts: 1 });
    // The bucket is empty now; the breaker, outside it, answers first.
    const refused = await call(c);
    expect(refused).toMatchObject({ code: 'SOURCE_UNAVAILABLE', attempts: 0 });
    expect(refused.message).toContain('the circuit breaker of source orders is open');
    expect(c.health()).toMatchObject({ state: 'failing', breaker: { state: 'open' }, lastError: { code: 'SOURCE_UNAVAILABLE' } });
    expect(source.requests).toHaveLength(2);
  });
});
