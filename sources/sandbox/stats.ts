/** Request counting by route template, the measure tests and benchmarks assert fan-out with. */

/** Requests served, counted when they arrive (before any latency delay). */
export interface SandboxStats {
  total: number;
  /**
   * Keyed by route template (`GET /api/orders/{id}`); requests that matched no route (404, 405)
   * are counted under `UNMATCHED_ROUTE`, so `total` is always the sum of the values.
   */
  byRoute: Record<string, number>;
  /** The most requests this system was serving at once: how a caller's concurrency bound shows. */
  peakInFlight: number;
  /** Requests to the OAuth token endpoint (an authorization server of its own: not in `total` or `byRoute`). */
  tokenRequests: number;
}

/** The `byRoute` key of requests that matched no route. */
export const UNMATCHED_ROUTE = '(unmatched)';

export class RequestCounter {
  #counts = new Map<string, number>();
  #inFlight = 0;
  #peakInFlight = 0;
  #waiting: Array<(key: string) => void> = [];

  count(key: string): void {
    this.#counts.set(key, (this.#counts.get(key) ?? 0) + 1);
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const resolve of waiting) resolve(key);
  }

  /** Resolves with the key of the next request counted: a test waits on it to know a request has arrived. */
  next(): Promise<string> {
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  /** A request started being served; call the returned function when it has been answered. */
  enter(): () => void {
    this.#inFlight += 1;
    this.#peakInFlight = Math.max(this.#peakInFlight, this.#inFlight);
    let left = false;
    return () => {
      if (left) return;
      left = true;
      this.#inFlight -= 1;
    };
  }

  /** A snapshot: later requests do not change it. */
  snapshot(): Omit<SandboxStats, 'tokenRequests'> {
    let total = 0;
    const byRoute: Record<string, number> = {};
    for (const [key, n] of this.#counts) {
      byRoute[key] = n;
      total += n;
    }
    return { total, byRoute, peakInFlight: this.#peakInFlight };
  }

  reset(): void {
    this.#counts = new Map();
    this.#peakInFlight = this.#inFlight;
  }
}
