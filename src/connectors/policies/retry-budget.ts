/**
 * A retry budget per source, in the manner of Finagle's: the retries of all calls to a source
 * together may not exceed `ratio` of the calls made over the last `windowMs`, plus `minPerSecond`.
 *
 * Why: in an outage every call fails, and each would be retried `maxAttempts - 1` times; the source,
 * already struggling, would see `maxAttempts` times its usual load just as it tries to recover.
 * Within the budget it sees at most `1 + ratio` times that load (plus the small fixed allowance
 * that lets a quiet source still have its occasional retry).
 */
import type { RetryPolicy } from '../../config/definition';

const SLOTS = 10;

interface Slot {
  calls: number;
  retries: number;
}

export class RetryBudget {
  private readonly slots: Slot[] = Array.from({ length: SLOTS }, () => ({ calls: 0, retries: 0 }));
  private readonly slotMs: number;
  private readonly allowance: number;
  private current = 0;
  private currentStart: number;

  constructor(
    private readonly options: RetryPolicy['budget'],
    /** Monotonic milliseconds: the source's clock. */
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!(options.windowMs > 0)) throw new RangeError(`retry budget: windowMs must be a positive number of milliseconds, got ${options.windowMs}`);
    if (!(options.ratio >= 0) || !(options.minPerSecond >= 0)) throw new RangeError('retry budget: ratio and minPerSecond must be numbers >= 0');
    this.slotMs = options.windowMs / SLOTS;
    this.allowance = (options.minPerSecond * options.windowMs) / 1000;
    this.currentStart = now();
  }

  /** A call started (its first attempt). */
  recordCall(): void {
    this.slot().calls += 1;
  }

  /** Takes one retry from the budget; false when it is spent (and then nothing is taken). */
  tryRetry(): boolean {
    const slot = this.slot();
    let calls = 0;
    let retries = 0;
    for (const s of this.slots) {
      calls += s.calls;
      retries += s.retries;
    }
    if (retries >= this.allowance + this.options.ratio * calls) return false;
    slot.retries += 1;
    return true;
  }

  /** The slot of the present moment; slots older than the window are emptied on the way. */
  private slot(): Slot {
    const elapsed = Math.floor((this.now() - this.currentStart) / this.slotMs);
    if (elapsed > 0) {
      for (let i = 1; i <= Math.min(elapsed, SLOTS); i += 1) {
        const slot = this.slots[(this.current + i) % SLOTS]!;
        slot.calls = 0;
        slot.retries = 0;
      }
      this.current = (this.current + elapsed) % SLOTS;
      this.currentStart += elapsed * this.slotMs;
    }
    return this.slots[this.current]!;
  }
}
