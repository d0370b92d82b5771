/**
 * Per-client budgets of query cost points: a leaky bucket per client, as at Shopify. A bucket holds
 * at most `capacity` points and refills at `restoreRate` points per second; an operation takes its
 * estimated cost up front and gives back what it did not use once it has run.
 */
export interface BucketPolicy {
  capacity: number;
  /** Points per second. */
  restoreRate: number;
}

/** A bucket as clients see it, in `extensions.cost.throttleStatus`. */
export interface ThrottleStatus {
  maximumAvailable: number;
  currentlyAvailable: number;
  restoreRate: number;
}

export interface TakeResult {
  /** The points were taken. When false, nothing was. */
  granted: boolean;
  status: ThrottleStatus;
  /** When not granted: how long until the bucket holds the points asked for. */
  retryAfterMs: number;
}

/**
 * Where buckets live. Implementations must apply each operation atomically per client (several
 * requests of one client, on one replica or many, race for the same bucket) and may forget a
 * client whose bucket has refilled: a forgotten bucket is a full one.
 */
export interface BudgetStore {
  readonly policy: BucketPolicy;
  /** Takes `points` from the client's bucket when it holds that many; otherwise takes nothing. */
  take(client: string, points: number): Promise<TakeResult>;
  /** Puts unused points back, never above capacity. */
  give(client: string, points: number): Promise<ThrottleStatus>;
  /** The bucket as it stands, changing nothing. */
  peek(client: string): Promise<ThrottleStatus>;
  close(): Promise<void>;
}

/** A bucket's points after `elapsedMs` of refilling. */
export function refill(available: number, elapsedMs: number, policy: BucketPolicy): number {
  return Math.min(policy.capacity, available + (Math.max(0, elapsedMs) * policy.restoreRate) / 1000);
}

/** How long a bucket holding `available` points takes to hold `points`. */
export function waitFor(points: number, available: number, policy: BucketPolicy): number {
  return points <= available ? 0 : Math.ceil(((points - available) / policy.restoreRate) * 1000);
}

/** How long an untouched bucket holding `available` points takes to be full, after which it may be forgotten. */
export function timeToFull(available: number, policy: BucketPolicy): number {
  return waitFor(policy.capacity, available, policy);
}

export function throttleStatus(available: number, policy: BucketPolicy): ThrottleStatus {
  // Shown to two decimals: refilling gives fractions of a point.
  return { maximumAvailable: policy.capacity, currentlyAvailable: Math.floor(available * 100) / 100, restoreRate: policy.restoreRate };
}
