import { LRUCache } from 'lru-cache';
import { systemClock, type Clock } from '../time/clock';
import { refill, throttleStatus, timeToFull, waitFor, type BucketPolicy, type BudgetStore, type TakeResult, type ThrottleStatus } from './budget-store';

interface Bucket {
  available: number;
  /** When `available` was last brought up to date (the clock's monotonic ms). */
  at: number;
}

export interface MemoryBudgetStoreOptions {
  /** Clients remembered at once; the least recently seen is forgotten first (its bucket counts as full). */
  maxClients?: number;
  /** Where refill time is read (its monotonic `now()`); default the process's clock. */
  clock?: Clock;
}

/**
 * Buckets in this process. Each operation runs to completion on the event loop, so each is atomic.
 * A bucket is forgotten once it has had time to refill (or when `maxClients` is reached), so
 * memory stays bounded by the clients that spent something lately.
 */
export class MemoryBudgetStore implements BudgetStore {
  private readonly buckets: LRUCache<string, Bucket>;
  private readonly clock: Clock;

  constructor(
    readonly policy: BucketPolicy,
    options: MemoryBudgetStoreOptions = {},
  ) {
    this.clock = options.clock ?? systemClock;
    this.buckets = new LRUCache<string, Bucket>({ max: options.maxClients ?? 10_000, ttlAutopurge: false, perf: this.clock });
  }

  private current(client: string): Bucket {
    const now = this.clock.now();
    const bucket = this.buckets.get(client);
    return { available: bucket ? refill(bucket.available, now - bucket.at, this.policy) : this.policy.capacity, at: now };
  }

  private save(client: string, bucket: Bucket): void {
    if (bucket.available >= this.policy.capacity) this.buckets.delete(client);
    else this.buckets.set(client, bucket, { ttl: Math.max(1, timeToFull(bucket.available, this.policy)) });
  }

  take(client: string, points: number): Promise<TakeResult> {
    const bucket = this.current(client);
    const granted = points <= bucket.available;
    if (granted) bucket.available -= points;
    this.save(client, bucket);
    return Promise.resolve({ granted, status: throttleStatus(bucket.available, this.policy), retryAfterMs: waitFor(points, bucket.available, this.policy) });
  }

  give(client: string, points: number): Promise<ThrottleStatus> {
    const bucket = this.current(client);
    bucket.available = Math.min(this.policy.capacity, bucket.available + Math.max(0, points));
    this.save(client, bucket);
    return Promise.resolve(throttleStatus(bucket.available, this.policy));
  }

  peek(client: string): Promise<ThrottleStatus> {
    return Promise.resolve(throttleStatus(this.current(client).available, this.policy));
  }

  close(): Promise<void> {
    this.buckets.clear();
    return Promise.resolve();
  }
}
