/** What one upstream call did, reported to whoever asked for it (explain, tests, metrics). */
export interface UpstreamCall {
  source: string;
  route: string;
  batchSize: number;
  status: number | 'error';
  /** Attempts that went out to the source, retries included; 0 when a policy (an open breaker) refused the call. */
  attempts: number;
  startedAt: number;
  durationMs: number;
  /** Set when the upstream-call cache answered instead of the source (`attempts` is then 0). */
  cacheHit?: boolean;
  /** Age of the oldest cached value served, in milliseconds; only with `cacheHit`. */
  ageMs?: number;
  /** With `cacheHit`: the values were kept past their freshness and served because the source failed. */
  staleIfError?: boolean;
}

export type CallObserver = (call: UpstreamCall) => void;
