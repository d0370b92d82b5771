/**
 * The quota a source reports left on its answers (`remainingHeader`): Shopify's leaky bucket
 * (`X-Shopify-Shop-Api-Call-Limit: 32/40`), HubSpot's window (`X-HubSpot-RateLimit-Remaining` with
 * `X-HubSpot-RateLimit-Interval-Milliseconds`), the IETF draft's `ratelimit-remaining` and
 * `ratelimit-reset` (Zendesk). The rate limit asks it, for each call, the earliest moment the call
 * leaves `reserve` calls in hand, and holds the call until then.
 *
 * A reading is the last answer's figure less the calls sent since that the answer could not have
 * counted (those still without an answer when it came, and those taken after it). An unreadable
 * value is ignored and counted (`unreadable`); an answer without the header keeps the last reading.
 */
import type { RemainingHeader } from '../../config/definition';
import { RateLimitWaitError } from '../errors';
import type { Headers } from './forwarding-handler';

/** A quota that would keep a call waiting longer than the source's `maxQueueWaitMs`. */
export class QuotaWaitError extends RateLimitWaitError {
  constructor(source: string, waitMs: number, maxQueueWaitMs: number, readonly header: string) {
    super(source, waitMs, maxQueueWaitMs, true);
    this.message = `source ${source} reports its quota at the reserve (${header}): room frees in ${Math.ceil(waitMs)} ms, longer than the ${maxQueueWaitMs} ms a call may queue`;
    this.name = 'QuotaWaitError';
  }
}

interface Reading {
  /** Calls left as the answer said. */
  remaining: number;
  /** When the answer came (the clock's monotonic ms). */
  at: number;
  /** For a reset or a window: when the whole quota is free again. */
  freeAt?: number;
}

const COUNT = /^\s*(\d{1,9})\s*$/;
const USED_OF_SIZE = /^\s*(\d{1,9})\s*\/\s*(\d{1,9})\s*$/;
const SECONDS = /^\s*(\d{1,9}(?:\.\d{1,3})?)\s*$/;

/** One value of a header, or undefined when absent; repeated differing values are unreadable (null). */
function single(headers: Headers, name: string): string | undefined | null {
  const value = headers[name];
  if (value === undefined) return undefined;
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && value.length > 0 && value.every((v) => v === value[0])) return String(value[0]);
  return null;
}

export class VendorQuota {
  private reading: Reading | undefined;
  /** Calls taken whose answer has not begun. */
  private outstanding = 0;
  /** Calls taken that the last reading does not count. */
  private uncounted = 0;
  /** Answers whose quota headers could not be read (ignored). */
  unreadable = 0;
  private readonly header: string;

  constructor(private readonly spec: RemainingHeader) {
    this.header = spec.header.toLowerCase();
  }

  /** The header named in messages, as declared. */
  get declaredHeader(): string {
    return this.spec.header;
  }

  /** The earliest moment, at or after `now`, that one more call leaves the reserve in hand. */
  earliest(now: number): number {
    const reading = this.reading;
    if (!reading) return now;
    const short = this.uncounted + 1 + this.spec.reserve - reading.remaining;
    if (short <= 0) return now;
    if (this.spec.leakPerSecond !== undefined) return Math.max(now, reading.at + (short * 1000) / this.spec.leakPerSecond);
    const freeAt = reading.freeAt ?? now;
    return freeAt > now ? freeAt : now;
  }

  /** A call was let through (now or after its wait). */
  took(): void {
    this.outstanding += 1;
    this.uncounted += 1;
  }

  /** A call ended without an answer. */
  settled(): void {
    this.outstanding = Math.max(0, this.outstanding - 1);
  }

  /** A call's answer began, at `now`: its headers give a new reading when they can be read. */
  answered(headers: Headers, now: number): void {
    this.settled();
    const reading = this.read(headers, now);
    if (reading === undefined) return;
    if (reading === null) {
      this.unreadable += 1;
      return;
    }
    this.reading = reading;
    // The calls still in flight went out before this answer was counted, or may have.
    this.uncounted = this.outstanding;
  }

  private read(headers: Headers, now: number): Reading | undefined | null {
    const value = single(headers, this.header);
    if (value === undefined) return undefined;
    if (value === null) return null;
    let remaining: number;
    if (this.spec.form === 'used/size') {
      const match = USED_OF_SIZE.exec(value);
      if (!match || Number(match[2]) === 0) return null;
      remaining = Math.max(0, Number(match[2]) - Number(match[1]));
    } else {
      const match = COUNT.exec(value);
      if (!match) return null;
      remaining = Number(match[1]);
    }
    if (this.spec.leakPerSecond !== undefined) return { remaining, at: now };
    const freeInMs = this.spec.resetHeader !== undefined ? this.delay(headers, this.spec.resetHeader, SECONDS, 1000) : this.delay(headers, this.spec.intervalHeader ?? '', COUNT, 1);
    if (freeInMs === undefined || freeInMs === null) return null;
    return { remaining, at: now, freeAt: now + freeInMs };
  }

  private delay(headers: Headers, name: string, pattern: RegExp, msPerUnit: number): number | undefined | null {
    const value = single(headers, name.toLowerCase());
    if (value === undefined || value === null) return value;
    const match = pattern.exec(value);
    return match ? Number(match[1]) * msPerUnit : null;
  }
}
