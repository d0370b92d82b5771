/**
 * The support desk flaps: down and up again, over and over, while a client keeps asking. The
 * gateway never fails a whole answer for it: every answer has the customers and orders, support
 * fields are either served or null with a code; attempts stay within the policy; the breaker opens
 * and closes as the desk comes and goes; and once the desk settles, answers are complete again.
 * The desk's outages are set and ended by the test, and the breaker's open periods pass on a
 * manual clock.
 */
import type { UpstreamCall } from '../../src/connectors/upstream-call';
import { ManualClock } from '../support/manual-clock';
import { CUSTOMER_360, FAST, startChaos, type Chaos, type Response360 } from './chaos';

const calls: UpstreamCall[] = [];
const clock = new ManualClock();
let chaos: Chaos;
beforeAll(async () => {
  chaos = await startChaos({ gateway: { observe: (call) => calls.push(call), sourceClock: clock } });
});
afterAll(() => chaos.h.close());

it('keeps answering with the other sources\' data while one flaps, and is complete once it settles', async () => {
  const support = chaos.h.sandboxes.support;
  const breakerStates = new Set<string>();
  const answers: Response360[] = [];
  const ask = async (times: number) => {
    for (let i = 0; i < times; i += 1) {
      answers.push(await chaos.h.query(CUSTOMER_360));
      breakerStates.add((await chaos.readiness()).sources.support?.breaker?.state ?? 'none');
    }
  };
  for (let flap = 0; flap < 6; flap += 1) {
    await support.setKnobs({ outageMs: 60_000 });
    await ask(2);
    await support.setKnobs({ outageMs: 0 });
    // Up again, but the breaker may still be open: its period passes, then the client asks on.
    clock.advance(FAST.breaker.openMs);
    await ask(2);
  }

  expect(answers).toHaveLength(24);
  for (const res of answers) {
    expect(res.status).toBe(200);
    expect(res.data!.customers.nodes).toHaveLength(3);
    for (const node of res.data!.customers.nodes) expect(node).toMatchObject({ name: expect.any(String), orders: expect.any(Array) });
    for (const error of res.errors ?? []) {
      expect(error.extensions).toMatchObject({ source: 'support', code: expect.stringMatching(/^SOURCE_(UNAVAILABLE|TIMEOUT)$/) });
      expect(error.path?.join('.')).toMatch(/^customers\.nodes\.\d\.(tickets|openTicketCount)$/);
    }
  }
  expect(answers.some((res) => res.errors !== undefined)).toBe(true);
  expect(answers.some((res) => res.errors === undefined)).toBe(true);
  expect(breakerStates).toEqual(new Set(['open', 'closed']));
  expect(calls.every((call) => call.attempts <= FAST.retry.maxAttempts)).toBe(true);

  // Settled: after one open period at most, a probe closes the breaker (the calls made alongside
  // it are refused), and the answers after it are whole.
  clock.advance(FAST.breaker.openMs);
  let settled: Response360 = await chaos.h.query(CUSTOMER_360);
  for (let i = 0; i < 2 && settled.errors !== undefined; i += 1) settled = await chaos.h.query(CUSTOMER_360);
  expect(settled.errors).toBeUndefined();
  expect((await chaos.readiness()).sources.support?.breaker?.state).toBe('closed');
});

it('leaves no unhandled rejection and no open socket', async () => {
  const { unhandledRejections, socketsOpen, socketsBefore } = await chaos.finish();
  expect(unhandledRejections).toEqual([]);
  expect(socketsOpen).toBeLessThanOrEqual(socketsBefore);
});
