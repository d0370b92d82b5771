import { Redis } from 'ioredis';
import type { CanonicalRecord } from '../connectors/record-mapper';
import type { TierHealth } from './cache-telemetry';
import { isEntityRef, valuesOf, type EntityRef } from './identities';

/** What the shared tier stores per key: the records and when they were fetched from the source. */
export interface SharedEntry {
  records: CanonicalRecord[];
  fetchedAt: number;
  /** How long after `fetchedAt` it is fresh, when the source said less than the declared TTL. */
  freshMs?: number;
  /** Records of the answer its mapping left out, by reason (see `Entry.rejected`). */
  rejected?: Array<{ reason: string; count: number }>;
}

/**
 * The tier behind local memory that several replicas share. Failures of the tier never fail a
 * request: a read that fails is a miss, a write that fails is dropped; each is reported to the
 * tier's `TierHealth` (counted, and logged once per outage). A subscriber that is down loses the
 * invalidations of other replicas; that is reported as an outage of its own.
 */
export interface SharedTier {
  getMany(keys: readonly string[]): Promise<Array<SharedEntry | undefined>>;
  /** Stores entries, tagged with the values they hold (see `UpstreamCache.invalidateValues`). */
  setMany(entries: ReadonlyArray<{ key: string; entry: SharedEntry; ttlMs: number; tags: readonly string[] }>): Promise<void>;
  /** Drops the entries tagged with the value of any of `refs` and tells every replica (`onInvalidate`). */
  invalidate(refs: readonly EntityRef[]): Promise<void>;
  /** Told of invalidations published by any replica, this one included. */
  onInvalidate(listener: (refs: EntityRef[]) => void): void;
  close(): Promise<void>;
}

/**
 * The shared tier's health, one outage per connection: the command connection (reads, writes,
 * invalidations) and the subscriber (invalidations published by other replicas).
 */
export interface SharedTierHealth {
  commands: TierHealth;
  pubsub: TierHealth;
}

export interface RedisTierOptions {
  url: string;
  keyPrefix: string;
  timeoutMs: number;
}

/**
 * The shared tier in Redis: entries as JSON strings with a TTL (`PX`), one set per tag value
 * listing the keys that hold it, and invalidations broadcast on a pub/sub channel so that every
 * replica drops its local memory too. Commands fail at once while the connection is down (no
 * offline queue, no retries: a miss is cheaper than a wait); ioredis reconnects by itself, and
 * the command connection being ready again is the tier answering again. The subscriber has its
 * own outage, which ends when Redis confirms its subscription again.
 */
export class RedisSharedTier implements SharedTier {
  private readonly listeners: Array<(refs: EntityRef[]) => void> = [];
  private readonly channel: string;

  private closing = false;

  private constructor(
    private readonly redis: Redis,
    private readonly subscriber: Redis,
    private readonly prefix: string,
    private readonly health: SharedTierHealth,
  ) {
    this.channel = `${prefix}invalidate`;
    const commands = health.commands;
    redis.on('error', (error: unknown) => commands.lost(error));
    // The command connection ready again is Redis answering commands (its ready check).
    redis.on('ready', () => commands.answered());
    // The subscriber is a connection of its own: while it is down commands may still work, but the
    // invalidations other replicas publish are lost, so its outage is counted and logged by itself.
    subscriber.on('error', (error: unknown) => this.subscriptionLost(error));
    subscriber.on('close', () => this.subscriptionLost(new Error('the subscriber connection closed')));
    // Ready is not yet subscribed: the subscription is renewed here rather than by ioredis, so that
    // only Redis confirming it ends the outage.
    subscriber.on('ready', () => {
      subscriber.subscribe(this.channel).then(
        () => health.pubsub.answered(),
        (error: unknown) => this.subscriptionLost(error),
      );
    });
    subscriber.on('message', (channel: string, message: string) => {
      if (channel !== this.channel) return;
      let refs: unknown;
      try {
        refs = JSON.parse(message);
      } catch {
        return;
      }
      if (!Array.isArray(refs) || !refs.every(isEntityRef)) return;
      for (const listener of this.listeners) listener(refs);
    });
  }

  /** The subscription lost: one failure per outage (the reconnect attempts that follow are the same outage). */
  private subscriptionLost(error: unknown): void {
    if (this.closing || this.health.pubsub.failing) return;
    this.health.pubsub.failed(error);
  }

  /** Connects both connections, or fails naming the URL's host (a tier that cannot start is a configuration error). */
  static async connect(options: RedisTierOptions, health: SharedTierHealth): Promise<RedisSharedTier> {
    const settings = {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      commandTimeout: options.timeoutMs,
      connectTimeout: Math.max(1_000, options.timeoutMs),
    };
    const redis = new Redis(options.url, { ...settings, enableOfflineQueue: false });
    const subscriber = new Redis(options.url, { lazyConnect: true, connectTimeout: settings.connectTimeout, autoResubscribe: false });
    // Until the tier is built, a connection error is the failure `connect` throws.
    const quiet = () => undefined;
    redis.on('error', quiet);
    subscriber.on('error', quiet);
    try {
      await Promise.all([redis.connect(), subscriber.connect()]);
      redis.off('error', quiet);
      subscriber.off('error', quiet);
      const tier = new RedisSharedTier(redis, subscriber, options.keyPrefix, health);
      await subscriber.subscribe(tier.channel);
      return tier;
    } catch (error) {
      redis.disconnect();
      subscriber.disconnect();
      const host = new URL(options.url).host;
      throw new Error(`The shared cache cannot reach Redis at ${host} (${error instanceof Error ? error.message : String(error)}); check cache.shared.url`);
    }
  }

  private key(key: string): string {
    return `${this.prefix}e:${key}`;
  }

  private tag(value: string): string {
    return `${this.prefix}t:${value}`;
  }

  async getMany(keys: readonly string[]): Promise<Array<SharedEntry | undefined>> {
    if (keys.length === 0) return [];
    let found: Array<string | null>;
    try {
      found = await this.redis.mget(...keys.map((key) => this.key(key)));
    } catch (error) {
      this.health.commands.failed(error);
      return keys.map(() => undefined);
    }
    this.health.commands.answered();
    return found.map((text) => (text === null ? undefined : parseEntry(text)));
  }

  async setMany(entries: ReadonlyArray<{ key: string; entry: SharedEntry; ttlMs: number; tags: readonly string[] }>): Promise<void> {
    if (entries.length === 0) return;
    const pipeline = this.redis.pipeline();
    for (const { key, entry, ttlMs, tags } of entries) {
      pipeline.set(this.key(key), JSON.stringify(entry), 'PX', ttlMs);
      for (const tag of tags) {
        pipeline.sadd(this.tag(tag), key);
        // A tag set outlives its longest entry a little; a stale member is a harmless DEL.
        pipeline.pexpire(this.tag(tag), ttlMs + 60_000);
      }
    }
    await this.run(pipeline);
  }

  async invalidate(refs: readonly EntityRef[]): Promise<void> {
    if (refs.length === 0) return;
    const values = valuesOf(refs);
    try {
      const members = await Promise.all(values.map((value) => this.redis.smembers(this.tag(value))));
      const keys = [...new Set(members.flat())].map((key) => this.key(key));
      const pipeline = this.redis.pipeline();
      if (keys.length > 0) pipeline.del(...keys);
      pipeline.del(...values.map((value) => this.tag(value)));
      pipeline.publish(this.channel, JSON.stringify(refs));
      await this.run(pipeline);
    } catch (error) {
      // Entries expire by their TTL; the local tiers were dropped by the caller already.
      this.health.commands.failed(error);
    }
  }

  /** Runs a pipeline; a failure of the pipeline or of any of its commands is reported, not thrown. */
  private async run(pipeline: ReturnType<Redis['pipeline']>): Promise<void> {
    let results: Awaited<ReturnType<typeof pipeline.exec>>;
    try {
      results = await pipeline.exec();
    } catch (error) {
      this.health.commands.failed(error);
      return;
    }
    const failed = results?.find(([error]) => error !== null)?.[0];
    if (failed) this.health.commands.failed(failed);
    else this.health.commands.answered();
  }

  onInvalidate(listener: (refs: EntityRef[]) => void): void {
    this.listeners.push(listener);
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all([this.redis.quit().catch(() => this.redis.disconnect()), this.subscriber.quit().catch(() => this.subscriber.disconnect())]);
  }
}

/** An entry as stored; one that does not parse (written by something else under the prefix) is a miss. */
function parseEntry(text: string): SharedEntry | undefined {
  try {
    const entry = JSON.parse(text) as Partial<SharedEntry> | null;
    if (entry === null || !Array.isArray(entry.records) || typeof entry.fetchedAt !== 'number') return undefined;
    // Rejection counts that are not what this replica writes are not trusted: the entry is a miss.
    if (entry.rejected !== undefined && !(Array.isArray(entry.rejected) && entry.rejected.every((line) => typeof line?.reason === 'string' && Number.isInteger(line.count) && line.count > 0))) return undefined;
    return entry as SharedEntry;
  } catch {
    return undefined;
  }
}
