import { Redis } from 'ioredis';
import type { Clock } from '../time/clock';
import { throttleStatus, waitFor, type BucketPolicy, type BudgetStore, type TakeResult, type ThrottleStatus } from './budget-store';

/**
 * One bucket operation, atomic in Redis (a script runs alone). The clock is Redis's own `TIME`, so
 * that replicas with drifting clocks share one timeline. A full bucket is deleted and any other
 * expires once it would have refilled: a missing key is a full bucket.
 *
 * KEYS[1] the client's bucket; ARGV capacity, restore rate (points/s), operation (take, give or
 * peek), points, and optionally the time (epoch ms) to use instead of `TIME`. Returns { 1 when
 * granted, the points now available as a string }.
 */
const BUCKET_SCRIPT = `
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local op = ARGV[3]
local points = tonumber(ARGV[4])
local now = tonumber(ARGV[5])
if not now then
  local time = redis.call('TIME')
  now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
end
local stored = redis.call('HMGET', KEYS[1], 'available', 'at')
local available = capacity
if stored[1] then
  available = math.min(capacity, tonumber(stored[1]) + math.max(0, now - tonumber(stored[2])) * rate / 1000)
end
local granted = 1
if op == 'take' then
  if points <= available then available = available - points else granted = 0 end
elseif op == 'give' then
  available = math.min(capacity, available + math.max(0, points))
end
if op ~= 'peek' then
  if available >= capacity then
    redis.call('DEL', KEYS[1])
  else
    redis.call('HSET', KEYS[1], 'available', tostring(available), 'at', tostring(now))
    redis.call('PEXPIRE', KEYS[1], math.ceil((capacity - available) / rate * 1000) + 1000)
  end
end
return { granted, tostring(available) }
`;

type Operation = 'take' | 'give' | 'peek';
type BucketCommand = (key: string, capacity: number, rate: number, op: Operation, points: number, ...now: [] | [number]) => Promise<[number, string]>;

export interface RedisBudgetStoreOptions {
  url: string;
  keyPrefix?: string;
  /** A command that takes longer fails (and the guard lets the request through uncharged). */
  timeoutMs?: number;
  /**
   * Replaces Redis's `TIME` for the buckets' refill (its `wallNow()`), so that a test moves time
   * instead of waiting for it. Leave it out anywhere else: replicas share a bucket only if they
   * share its clock, and Redis's is the one they all read. (Keys still expire on Redis's clock; a
   * key that expired early reads as a full bucket.)
   */
  clock?: Clock;
}

/**
 * Buckets in Redis, shared by every replica. Commands fail at once while Redis is unreachable
 * (no offline queue): a budget check must never hold a request up.
 */
export class RedisBudgetStore implements BudgetStore {
  private readonly bucket: BucketCommand;

  private constructor(
    readonly policy: BucketPolicy,
    private readonly redis: Redis,
    private readonly keyPrefix: string,
    private readonly clock: Clock | undefined,
  ) {
    redis.defineCommand('virtualizeBucket', { numberOfKeys: 1, lua: BUCKET_SCRIPT });
    const command = (redis as unknown as { virtualizeBucket: BucketCommand }).virtualizeBucket;
    this.bucket = command.bind(redis);
  }

  /** Connects, or fails with a message that names the URL's host (never its password). */
  static async connect(policy: BucketPolicy, options: RedisBudgetStoreOptions): Promise<RedisBudgetStore> {
    const timeoutMs = options.timeoutMs ?? 250;
    const redis = new Redis(options.url, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: timeoutMs,
      connectTimeout: Math.max(1_000, timeoutMs),
      disconnectTimeout: timeoutMs,
    });
    // Reconnection is automatic; failed commands are reported where they are made.
    redis.on('error', () => undefined);
    try {
      await redis.connect();
    } catch (error) {
      redis.disconnect();
      const host = new URL(options.url).host;
      throw new Error(`The budget store cannot reach Redis at ${host} (${error instanceof Error ? error.message : String(error)}); check guard.budget.store.url`);
    }
    return new RedisBudgetStore(policy, redis, options.keyPrefix ?? 'virtualize:budget:', options.clock);
  }

  private async run(client: string, op: Operation, points: number): Promise<{ granted: boolean; available: number }> {
    const now: [] | [number] = this.clock ? [this.clock.wallNow()] : [];
    const [granted, available] = await this.bucket(this.keyPrefix + client, this.policy.capacity, this.policy.restoreRate, op, points, ...now);
    return { granted: granted === 1, available: Number(available) };
  }

  async take(client: string, points: number): Promise<TakeResult> {
    const { granted, available } = await this.run(client, 'take', points);
    return { granted, status: throttleStatus(available, this.policy), retryAfterMs: waitFor(points, available, this.policy) };
  }

  async give(client: string, points: number): Promise<ThrottleStatus> {
    return throttleStatus((await this.run(client, 'give', points)).available, this.policy);
  }

  async peek(client: string): Promise<ThrottleStatus> {
    return throttleStatus((await this.run(client, 'peek', 0)).available, this.policy);
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
