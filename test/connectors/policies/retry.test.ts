import { errors, Pool } from 'undici';
import { retryPolicyDefinition } from '../../../src/config/definition';
import { AttemptTimeoutError, BreakerOpenError, InterruptedAnswerError } from '../../../src/connectors/errors';
import { attempt, newCallRecord } from '../../../src/connectors/policies/attempt';
import { decideRetry, retry } from '../../../src/connectors/policies/retry';
import { RetryBudget } from '../../../src/connectors/policies/retry-budget';
import { closedPort, startFakeSource, type FakeSource } from '../../support/fake-source';
import { ManualClock } from '../../support/manual-clock';

/** Bounds each loopback call, which is not what these tests are about: generous, so that a busy machine never trips it. */
const LOOPBACK_BOUND_MS = 10_000;

const policy = retryPolicyDefinition.parse({ maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 40, maxRetryAfterMs: 1_500 });
const roomy = () => new RetryBudget({ ratio: 1, minPerSecond: 1_000, windowMs: 1_000 });
// undici's typings give the third parameter as the headers; its code takes `{ headers, data }`, as its retry handler passes.
const answered = (status: number, headers: Record<string, string> = {}) =>
  new errors.RequestRetryError('Request failed', status, { headers, data: { count: 1 } } as unknown as Record<string, string>);
const failedWith = (code: string) => Object.assign(new Error(code), { code });

describe('decideRetry', () => {
  it('retries 429, 502, 503, 504, connection failures and timeouts of a GET, within maxAttempts', () => {
    const transient = [answered(429), answered(502), answered(503), answered(504), failedWith('ECONNREFUSED'), failedWith('ECONNRESET'), failedWith('UND_ERR_SOCKET'), failedWith('UND_ERR_HEADERS_TIMEOUT'), new AttemptTimeoutError(100)];
    for (const error of transient) {
      expect(decideRetry({ error, attempt: 1, method: 'GET' }, policy, roomy()).retry).toBe(true);
      expect(decideRetry({ error, attempt: 3, method: 'GET' }, policy, roomy())).toEqual({ retry: false });
    }
  });

  it('never retries 400, 401, 403, 404 or 500, an answer that broke halfway, a policy refusal, or a write', () => {
    for (const status of [400, 401, 403, 404, 500]) expect(decideRetry({ error: answered(status), attempt: 1, method: 'GET' }, policy, roomy())).toEqual({ retry: false });
    expect(decideRetry({ error: new InterruptedAnswerError(failedWith('ECONNRESET')), attempt: 1, method: 'GET' }, policy, roomy())).toEqual({ retry: false });
    expect(decideRetry({ error: new BreakerOpenError('crm', Date.now() + 1000), attempt: 1, method: 'GET' }, policy, roomy())).toEqual({ retry: false });
    expect(decideRetry({ error: answered(503), attempt: 1, method: 'POST' }, policy, roomy())).toEqual({ retry: false });
  });

  it('backs off exponentially with full jitter, capped at maxDelayMs', () => {
    const delay = (attemptNo: number, random: number) => {
      const decision = decideRetry({ error: answered(503), attempt: attemptNo, method: 'GET' }, { ...policy, maxAttempts: 10 }, roomy(), { random: () => random });
      return decision.retry ? decision.delayMs : undefined;
    };
    expect([1, 2, 3, 4, 5].map((n) => delay(n, 0.999))).toEqual([10, 20, 40, 40, 40]);
    expect(delay(3, 0)).toBe(0);
    expect(delay(3, 0.5)).toBe(20);
  });

  it('waits out a Retry-After given in seconds or as a date, and gives up at once on a longer one', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(decideRetry({ error: answered(429, { 'retry-after': '1' }), attempt: 1, method: 'GET' }, policy, roomy(), { now })).toEqual({ retry: true, delayMs: 1_000 });
    expect(decideRetry({ error: answered(503, { 'retry-after': 'Thu, 01 Jan 2026 00:00:01 GMT' }), attempt: 1, method: 'GET' }, policy, roomy(), { now })).toEqual({ retry: true, delayMs: 1_000 });
    // Shopify sends fractional seconds: 2.0 and 1.25 are waits, not HTTP dates of the year 2000.
    expect(decideRetry({ error: answered(429, { 'retry-after': '1.25' }), attempt: 1, method: 'GET' }, policy, roomy(), { now })).toEqual({ retry: true, delayMs: 1_250 });
    expect(decideRetry({ error: answered(429, { 'retry-after': '2.0' }), attempt: 1, method: 'GET' }, policy, roomy(), { now })).toMatchObject({ retry: false });
    expect(decideRetry({ error: answered(429, { 'retry-after': '60' }), attempt: 1, method: 'GET' }, policy, roomy(), { now })).toEqual({
      retry: false,
      because: 'the source asked to wait 60 s (Retry-After), longer than maxRetryAfterMs',
    });
  });

  it('takes each retry from the budget, and says so when it is spent', () => {
    const budget = new RetryBudget({ ratio: 0, minPerSecond: 2, windowMs: 1_000 });
    const decide = () => decideRetry({ error: answered(503), attempt: 1, method: 'GET' }, policy, budget);
    expect([decide().retry, decide().retry]).toEqual([true, true]);
    expect(decide()).toEqual({ retry: false, because: 'the retry budget of the source is spent' });
  });
});

describe('retry interceptor over undici', () => {
  let source: FakeSource | undefined;
  let pool: Pool | undefined;
  afterEach(async () => {
    await pool?.close();
    await source?.close();
    pool = source = undefined;
  });

  async function get(origin: string, budget = roomy(), clock?: ManualClock) {
    pool = new Pool(origin);
    const dispatcher = pool.compose(attempt({ timeoutMs: LOOPBACK_BOUND_MS }), retry(policy, budget, Math.random, clock));
    const record = newCallRecord();
    const outcome = await dispatcher.request({ method: 'GET', path: '/things', opaque: record }).then(
      async (response) => ({ status: response.statusCode, body: await response.body.text() }),
      (error: Error) => ({ error }),
    );
    return { outcome, record };
  }

  it('repeats a 503 until the source answers, and counts every attempt', async () => {
    source = await startFakeSource(({ n }) => (n < 3 ? { status: 503 } : { body: '{"ok":true}' }));
    const { outcome, record } = await get(source.origin);
    expect(outcome).toEqual({ status: 200, body: '{"ok":true}' });
    expect(record.attempts).toBe(3);
    expect(source.requests).toHaveLength(3);
  });

  it('answers a 404 at once, and hands on the last failure after maxAttempts', async () => {
    source = await startFakeSource(({ path }) => ({ status: path === '/things' ? 503 : 404 }));
    const { outcome, record } = await get(source.origin);
    expect(outcome).toMatchObject({ error: { statusCode: 503 } });
    expect(record.attempts).toBe(3);
    expect(source.requests).toHaveLength(3);
  });

  it('waits as long as Retry-After asks before it repeats a 429', async () => {
    source = await startFakeSource(({ n }) => (n === 1 ? { status: 429, headers: { 'retry-after': '1' } } : {}));
    const clock = new ManualClock();
    const answer = get(source.origin, roomy(), clock);
    await clock.untilTimers(1);
    clock.advance(999);
    expect(source.requests).toHaveLength(1);
    expect(clock.pendingTimers()).toBe(1);
    clock.advance(1);
    expect((await answer).outcome).toMatchObject({ status: 200 });
    expect(source.requests).toHaveLength(2);
  });

  it('waits a fractional Retry-After (Shopify 429 with 1.5) on the clock before it repeats', async () => {
    source = await startFakeSource(({ n }) => (n === 1 ? { status: 429, headers: { 'retry-after': '1.5' } } : {}));
    const clock = new ManualClock();
    const answer = get(source.origin, roomy(), clock);
    await clock.untilTimers(1);
    clock.advance(1_499);
    expect(source.requests).toHaveLength(1);
    clock.advance(1);
    expect((await answer).outcome).toMatchObject({ status: 200 });
    expect(source.requests).toHaveLength(2);
  });

  it('retries a refused connection, and sends nothing more once the budget is spent', async () => {
    const { outcome, record } = await get(`http://127.0.0.1:${await closedPort()}`);
    expect(outcome).toMatchObject({ error: { code: 'ECONNREFUSED' } });
    expect(record.attempts).toBe(3);

    source = await startFakeSource(() => ({ status: 503 }));
    const spent = await get(source.origin, new RetryBudget({ ratio: 0, minPerSecond: 0, windowMs: 1_000 }));
    expect(spent.record).toEqual({ attempts: 1, retryStopped: 'the retry budget of the source is spent' });
    expect(source.requests).toHaveLength(1);
  });
});
