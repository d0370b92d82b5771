/**
 * The sandbox's fixed "now". Generated dates are placed relative to it rather than to the wall
 * clock, so the data is the same whatever day the tests run.
 */

/** 2026-01-01T00:00:00Z, in epoch seconds. */
export const SANDBOX_NOW = Date.UTC(2026, 0, 1) / 1000;

export const DAY_SECONDS = 86_400;
export const YEAR_SECONDS = 365 * DAY_SECONDS;

/** Epoch seconds for a UTC calendar date. */
export function utcSeconds(year: number, month: number, day: number): number {
  return Date.UTC(year, month - 1, day) / 1000;
}
