import { AsyncResource } from 'node:async_hooks';
import type { TimerClock } from '../../src/time/clock';

interface PendingTimer {
  at: number;
  seq: number;
  callback: () => void;
}

/**
 * A clock that moves only when a test says so. Both scales advance together; the wall clock
 * starts at a fixed instant so that timestamps in assertions are reproducible.
 *
 * Timers set on it fire when `advance` reaches their time, in the order of their times (and of
 * their setting, for equal times). A timer already due when it is set (0 ms) fires on the next
 * turn of the event loop without the clock moving, as `setTimeout(fn, 0)` would.
 */
export class ManualClock implements TimerClock {
  private monotonic = 1_000;
  private wall = Date.UTC(2026, 0, 1);
  private timers: PendingTimer[] = [];
  private seq = 0;
  private waiters: Array<() => void> = [];

  now(): number {
    return this.monotonic;
  }

  wallNow(): number {
    return this.wall;
  }

  setTimer(ms: number, fire: () => void): () => void {
    // Fired in the context it was set in, as a process timer is, whoever moves the clock.
    const callback = AsyncResource.bind(fire);
    if (!(ms > 0)) {
      const immediate = setImmediate(callback);
      return () => clearImmediate(immediate);
    }
    const timer: PendingTimer = { at: this.monotonic + ms, seq: (this.seq += 1), callback };
    this.timers.push(timer);
    for (const wake of this.waiters.splice(0)) wake();
    return () => {
      this.timers = this.timers.filter((pending) => pending !== timer);
    };
  }

  /** Moves both scales forward by `ms`, firing every timer that falls due on the way, at its time. */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new Error(`a clock only moves forward: advance(${ms})`);
    const target = this.monotonic + ms;
    for (;;) {
      const next = this.timers.filter((timer) => timer.at <= target).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!next) break;
      this.timers = this.timers.filter((timer) => timer !== next);
      this.moveTo(Math.max(this.monotonic, next.at));
      next.callback();
    }
    this.moveTo(target);
  }

  /** Timers set and not yet fired or cancelled. */
  pendingTimers(): number {
    return this.timers.length;
  }

  /** Resolves once at least `count` timers are pending: the event a test waits for before it moves the clock. */
  async untilTimers(count = 1): Promise<void> {
    while (this.timers.length < count) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  private moveTo(monotonic: number): void {
    this.wall += monotonic - this.monotonic;
    this.monotonic = monotonic;
  }
}
