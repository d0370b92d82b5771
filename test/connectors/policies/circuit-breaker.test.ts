import { Pool } from 'undici';
import { breakerPolicyDefinition } from '../../../src/config/definition';
import { BreakerOpenError } from '../../../src/connectors/errors';
import { attempt } from '../../../src/connectors/policies/attempt';
import { SourceBreaker } from '../../../src/connectors/policies/circuit-breaker';
import { startFakeSource, type FakeSource } from '../../support/fake-source';
import { ManualClock } from '../../support/manual-clock';

/** Bounds each loopback call, which is not what these tests are about: generous, so that a busy machine never trips it. */
const LOOPBACK_BOUND_MS = 10_000;

const policy = breakerPolicyDefinition.parse({ windowMs: 5_000, minimumAttempts: 5, failureRatio: 0.5, openMs: 300 });

describe('circuit breaker', () => {
  let source: FakeSource;
  let pool: Pool;
  let breaker: SourceBreaker;
  let clock: ManualClock;
  let status = 503;
  beforeEach(async () => {
    status = 503;
    source = await startFakeSource(() => ({ status }));
    pool = new Pool(source.origin);
    clock = new ManualClock();
    breaker = new SourceBreaker('crm', policy, clock);
  });
  afterEach(async () => {
    breaker.close();
    await pool.close();
    await source.close();
  });

  const get = () =>
    pool
      .compose(attempt({ timeoutMs: LOOPBACK_BOUND_MS }), breaker.interceptor())
      .request({ method: 'GET', path: '/x' })
      .then(
        async (response) => {
          await response.body.text();
          return response.statusCode;
        },
        (error: Error) => error,
      );

  it('opens after 5 failed attempts, then refuses at once without reaching the source', async () => {
    for (let i = 0; i < 5; i += 1) expect(await get()).toBe(503);
    const openedAt = new Date(clock.wallNow()).toISOString();
    const probeAt = new Date(clock.wallNow() + policy.openMs).toISOString();
    expect(breaker.report()).toEqual({ state: 'open', openedAt, probeAt });
    const refused = await get();
    expect(refused).toBeInstanceOf(BreakerOpenError);
    expect((refused as Error).message).toMatch(new RegExp(`circuit breaker of source crm is open .* until a probe at ${probeAt} \\(in 1 s\\)`));
    expect(source.requests).toHaveLength(5);
  });

  it('lets one probe through after openMs; its success closes the breaker', async () => {
    for (let i = 0; i < 5; i += 1) await get();
    clock.advance(policy.openMs - 1);
    expect(breaker.report().state).toBe('open');
    expect(await get()).toBeInstanceOf(BreakerOpenError);
    clock.advance(1);
    expect(breaker.report().state).toBe('halfOpen');
    status = 200;
    source.requests.length = 0;
    // Several callers at once: exactly one is the probe, the others are refused while it is in flight.
    const outcomes = await Promise.all([get(), get(), get()]);
    expect(outcomes.filter((o) => o === 200)).toHaveLength(1);
    expect(outcomes.filter((o) => o instanceof BreakerOpenError)).toHaveLength(2);
    expect(source.requests).toHaveLength(1);
    expect(breaker.report()).toEqual({ state: 'closed' });
    expect(await get()).toBe(200);
  });

  it('opens again for another openMs when the probe fails', async () => {
    for (let i = 0; i < 5; i += 1) await get();
    clock.advance(policy.openMs);
    expect(await get()).toBe(503);
    // Open for another openMs, counted from the failed probe.
    expect(breaker.report()).toMatchObject({ state: 'open', probeAt: new Date(clock.wallNow() + policy.openMs).toISOString() });
    expect(await get()).toBeInstanceOf(BreakerOpenError);
    expect(source.requests).toHaveLength(6);
    clock.advance(policy.openMs);
    expect(breaker.report().state).toBe('halfOpen');
  });

  it('does not count answers such as 404 or 429 as failures of the source', async () => {
    status = 404;
    for (let i = 0; i < 6; i += 1) await get();
    status = 429;
    for (let i = 0; i < 6; i += 1) await get();
    expect(breaker.report()).toEqual({ state: 'closed' });
  });

  it('forgets failures older than windowMs, as the clock passes', async () => {
    for (let i = 0; i < 4; i += 1) await get();
    clock.advance(policy.windowMs);
    // Four failures have left the window: four more do not reach minimumAttempts within it.
    for (let i = 0; i < 4; i += 1) await get();
    expect(breaker.report()).toEqual({ state: 'closed' });
    expect(await get()).toBe(503);
    expect(breaker.report().state).toBe('open');
  });

  it('stays closed while no more than failureRatio of the attempts fail', async () => {
    for (let i = 0; i < 10; i += 1) {
      status = i % 2 === 0 ? 200 : 503;
      await get();
    }
    expect(breaker.report()).toEqual({ state: 'closed' });
  });
});
