/** What the sandbox tests assert about the delays a system schedules on its clock. */
import type { ManualClock } from '../support/manual-clock';

/**
 * Waits for the system to schedule its next delay on `clock` and shows that it is exactly `ms`
 * long: the clock moved a millisecond short leaves it pending, the last millisecond fires it.
 */
export async function expectDelay(clock: ManualClock, ms: number): Promise<void> {
  await clock.untilTimers(1);
  clock.advance(ms - 1);
  expect(clock.pendingTimers()).toBe(1);
  clock.advance(1);
  expect(clock.pendingTimers()).toBe(0);
}
