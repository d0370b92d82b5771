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
