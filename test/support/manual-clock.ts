import type { Clock } from '../../src/time/clock';

/**
 * A clock that moves only when a test says so. Both scales advance together; the wall clock
 * starts at a fixed instant so that timestamps in assertions are reproducible.
 */
export class ManualClock implements Clock {
  private monotonic = 1_000;
  private wall = Date.UTC(2026, 0, 1);

  now(): number {
    return this.monotonic;
  }

  wallNow(): number {
    return this.wall;
  }

  advance(ms: number): void {
    if (!(ms >= 0)) throw new Error(`a clock only moves forward: advance(${ms})`);
    this.monotonic += ms;
    this.wall += ms;
  }
}
