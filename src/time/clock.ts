/**
 * Where the product reads time. Every policy that waits, expires or measures takes a Clock, so
 * that tests drive time forward instead of sleeping, and production reads the process's clocks.
 *
 * `now()` is monotonic milliseconds (the `performance.now()` scale: only differences mean
 * anything); `wallNow()` is epoch milliseconds, for what is shown to people or stored (audit
 * entries, `Date` headers). lru-cache's `perf` option accepts a Clock as it is.
 */
export interface Clock {
  now(): number;
  wallNow(): number;
}

/**
 * A clock that also wakes a caller once time has passed on it: what a policy that waits takes
 * (a retry's backoff, a rate limit's queue), so that a test moving the clock moves the waits too.
 */
export interface TimerClock extends Clock {
  /**
   * Calls `callback` once `ms` have passed on this clock (a due timer fires on a later turn of the
   * event loop, never synchronously) and returns what cancels it. A pending timer never keeps
   * the process alive.
   */
  setTimer(ms: number, callback: () => void): () => void;
}

/** The process's own clocks and timers. */
export const systemClock: TimerClock = {
  now: () => performance.now(),
  wallNow: () => Date.now(),
  setTimer: (ms, callback) => {
    const timer = setTimeout(callback, ms).unref();
    return () => clearTimeout(timer);
  },
};

/** Resolves once `ms` have passed on `clock`. */
export function sleepOn(clock: TimerClock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.setTimer(ms, resolve));
}
