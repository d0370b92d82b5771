/**
 * The support desk goes down (connections refused): customers and orders still come back, every
 * support field is null with SOURCE_UNAVAILABLE at its own path, the breaker opens and calls fail
 * at once, /readyz says so, and everything comes back once the desk does.
 */
import type { UpstreamCall } from '../../src/connectors/upstream-call';
import { ManualClock } from '../support/manual-clock';
import { CUSTOMER_360, errorPaths, expectNothingLeaked, FAST, startChaos, type Chaos, type Response360 } from './chaos';

let chaos: Chaos;
const calls: UpstreamCall[] = [];
const clock = new ManualClock();
beforeAll(async () => {
  chaos = await startChaos({ gateway: { observe: (call) => calls.push(call), sourceClock: clock } });
  // Healthy first: the gateway holds a support-desk token when the desk goes down.
  expect((await chaos.h.query(CUSTOMER_360)).errors).toBeUndefined();
});
afterAll(() => chaos.h.close());

const supportPaths = [0, 1, 2].flatMap((i) => [`customers.nodes.${i}.openTicketCount`, `customers.nodes.${i}.tickets`]).sort();

it("returns the other sources' data, the down source's fields null, each with SOURCE_UNAVAILABLE and its path", async () => {
  await chaos.h.sandboxes.support.setKnobs({ outageMs: 60_000 });
  const res: Response360 = await chaos.h.query(CUSTOMER_360);
  expect(res.status).toBe(200);
  const nodes = res.data!.customers.nodes;
  expect(nodes).toHaveLength(3);
  for (const node of nodes) {
    expect(node).toMatchObject({ name: expect.any(String), orders: expect.any(Array), orderSummary: { count: expect.any(Number) }, tickets: null, openTicketCount: null });
  }
  expect(errorPaths(res)).toEqual(supportPaths);
  for (const error of res.errors!) {
    expect(error.extensions).toEqual({ code: 'SOURCE_UNAVAILABLE', source: 'support', route: 'GET /tickets' });
    expect(error.message).toMatch(/^Source support (is unreachable \(ECONNREFUSED\)|is unavailable)/);
  }
  expectNothingLeaked(res);
});

it('opens the breaker: calls fail at once without reaching for the source, and /readyz reports it', async () => {
  const report = await chaos.readiness();
  expect(report.status).toBe('ready');
  expect(report.sources.support).toMatchObject({ state: 'failing', breaker: { state: 'open', probeAt: expect.any(String) }, lastError: { code: 'SOURCE_UNAVAILABLE' } });
  expect(report.sources.crm).toMatchObject({ state: 'up', breaker: { state: 'closed' } });
  expectNothingLeaked(report);

  calls.length = 0;
  const res: Response360 = await chaos.h.query(CUSTOMER_360);
  const supportCalls = calls.filter((call) => call.source === 'support');
  expect(supportCalls).toHaveLength(3);
  expect(supportCalls.every((call) => call.attempts === 0 && call.status === 'error')).toBe(true);
  expect(res.data!.customers.nodes.every((node) => node.tickets === null && Array.isArray(node.orders))).toBe(true);
  for (const error of res.errors!) {
    expect(error.message).toMatch(/^Source support is unavailable \(GET \/tickets\): the circuit breaker of source support is open after repeated failures; calls fail at once until a probe at \S+ \(in 2 s\)$/);
  }
});

it('recovers once the source is back: one probe after openMs (its companions refused), then complete answers', async () => {
  await chaos.h.sandboxes.support.setKnobs({ outageMs: 0 });
  clock.advance(FAST.breaker.openMs);
  chaos.h.resetUpstream();
  const probing: Response360 = await chaos.h.query(CUSTOMER_360);
  expect(chaos.h.upstream().support).toEqual({ 'GET /api/v2/tickets': 1 });
  const probed = probing.data!.customers.nodes.filter((node) => Array.isArray(node.tickets));
  expect(probed).toHaveLength(1);
  expect(new Set(probing.errors!.map((error) => error.message))).toEqual(
    new Set(['Source support is unavailable (GET /tickets): the circuit breaker of source support is half-open and its probe call is still in flight; calls fail at once until it answers']),
  );

  const res: Response360 = await chaos.h.query(CUSTOMER_360);
  expect(res.errors).toBeUndefined();
  expect(res.data!.customers.nodes.every((node) => Array.isArray(node.tickets))).toBe(true);
  expect((await chaos.readiness()).sources.support).toMatchObject({ state: 'up', breaker: { state: 'closed' }, lastError: { code: 'SOURCE_UNAVAILABLE' } });
});

it('leaves no unhandled rejection and no open socket', async () => {
  const { unhandledRejections, socketsOpen, socketsBefore } = await chaos.finish();
  expect(unhandledRejections).toEqual([]);
  expect(socketsOpen).toBeLessThanOrEqual(socketsBefore);
});
