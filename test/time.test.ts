import { systemClock } from '../src/time/clock';
import { ManualClock } from './support/manual-clock';

test('a manual clock moves both scales together, forward only', () => {
  const clock = new ManualClock();
  const [now, wall] = [clock.now(), clock.wallNow()];
  clock.advance(250);
  expect(clock.now() - now).toBe(250);
  expect(clock.wallNow() - wall).toBe(250);
  expect(() => clock.advance(-1)).toThrow(/forward/);
});

test('the system clock reads the process clocks', () => {
  const before = Date.now();
  expect(systemClock.wallNow()).toBeGreaterThanOrEqual(before);
  expect(systemClock.now()).toBeGreaterThan(0);
});

test('a manual clock fires its timers when it reaches them, in order, and not before', async () => {
  const clock = new ManualClock();
  const fired: string[] = [];
  clock.setTimer(200, () => fired.push(`b at ${clock.now()}`));
  clock.setTimer(100, () => fired.push(`a at ${clock.now()}`));
  const cancel = clock.setTimer(150, () => fired.push('cancelled'));
  cancel();
  const start = clock.now();
  clock.advance(99);
  expect(fired).toEqual([]);
  clock.advance(101);
  expect(fired).toEqual([`a at ${start + 100}`, `b at ${start + 200}`]);
  expect(clock.pendingTimers()).toBe(0);

  // A timer due at once fires on a later turn, without the clock moving.
  await new Promise<void>((resolve) => clock.setTimer(0, resolve));

  const waiting = clock.untilTimers(1);
  clock.setTimer(10, () => undefined);
  await waiting;
  expect(clock.pendingTimers()).toBe(1);
});
