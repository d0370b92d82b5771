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

/** The process's own clocks. */
export const systemClock: Clock = {
  now: () => performance.now(),
  wallNow: () => Date.now(),
};
