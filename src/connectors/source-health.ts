import type { SourceErrorCode } from './errors';
import type { BreakerReport } from './policies/circuit-breaker';

/** A source's state for readiness reports: no URL, no credentials. */
export interface SourceHealth {
  /** The outcome of the latest call: `unknown` before any. */
  state: 'unknown' | 'up' | 'failing';
  /** Absent when the source declares `breaker: false`. */
  breaker?: BreakerReport;
  /** The code of the latest failure, however long ago, and when it happened. */
  lastError?: { code: SourceErrorCode; at: string };
  lastCallAt?: string;
}

/** Remembers the outcome of a source's latest call and its latest failure, for `SourceHealth`. */
export class SourceHealthRecorder {
  private lastCall: { ok: boolean; at: number } | undefined;
  private lastError: { code: SourceErrorCode; at: number } | undefined;

  /** `failure` is the code of the call's error; undefined for a call that succeeded. */
  /** `at` is epoch ms. */
  record(failure: SourceErrorCode | undefined, at: number): void {
    this.lastCall = { ok: failure === undefined, at };
    if (failure !== undefined) this.lastError = { code: failure, at };
  }

  report(breaker: BreakerReport | undefined): SourceHealth {
    const last = this.lastCall;
    return {
      state: last === undefined ? 'unknown' : last.ok ? 'up' : 'failing',
      ...(breaker ? { breaker } : {}),
      ...(this.lastError ? { lastError: { code: this.lastError.code, at: new Date(this.lastError.at).toISOString() } } : {}),
      ...(last ? { lastCallAt: new Date(last.at).toISOString() } : {}),
    };
  }
}
