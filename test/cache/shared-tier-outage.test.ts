/**
 * An outage of the shared tier, against the real Redis (REDIS_URL) behind a loopback proxy that
 * the test owns and cuts: every failed operation is counted, the first failure is logged and
 * nothing more until Redis answers again, which is logged as its recovery. Lookups meanwhile are
 * misses, never errors. The subscriber is an outage of its own: cut alone, it is counted and
 * logged once (invalidations from other replicas are lost meanwhile) while commands keep working,
 * and it ends when Redis confirms the subscription again. Runs only when REDIS_URL is set.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter, once } from 'node:events';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { Redis } from 'ioredis';
import { INVALIDATIONS_LOST, TierOutage, type CacheMetrics, type CacheTier } from '../../src/cache/cache-telemetry';
import type { EntityRef } from '../../src/cache/identities';
import { RedisSharedTier } from '../../src/cache/shared-tier';
import { createLogger } from '../../src/telemetry/logger';

const REDIS_URL = process.env.REDIS_URL;
if (!REDIS_URL) console.log('shared-tier-outage.test.ts: skipped, REDIS_URL is not set');

/**
 * A TCP proxy to Redis on a loopback port: stopping it is an outage of every connection through it.
 * A connection that has sent SUBSCRIBE is a subscriber; `cutSubscribers` closes those, and closes
 * each new connection as soon as it subscribes, until `restoreSubscribers` (commands pass meanwhile).
 */
class RedisProxy extends EventEmitter {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly subscribers = new Set<Socket>();
  private cutting = false;
  /** Subscriber connections closed by `cutSubscribers`, the open ones and each that subscribed since. */
  cut = 0;
  port = 0;

  constructor(private readonly target: { host: string; port: number }) {
    super();
  }

  async start(): Promise<void> {
    const server = createServer((client) => {
      const upstream = connect(this.target);
      const close = () => {
        client.destroy();
        upstream.destroy();
      };
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => {
          this.sockets.delete(socket);
          this.subscribers.delete(socket);
        });
        socket.on('error', close);
      }
      client.on('close', close);
      upstream.on('close', close);
      client.on('data', (chunk: Buffer) => {
        if (/subscribe/i.test(chunk.toString('latin1'))) this.subscribers.add(client);
        if (this.cutting && this.subscribers.has(client)) return this.cutOne(client);
        upstream.write(chunk);
      });
      upstream.pipe(client);
    });
    server.listen(this.port, '127.0.0.1');
    await once(server, 'listening');
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    const closed = once(server, 'close');
    server.close();
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  cutSubscribers(): void {
    this.cutting = true;
    for (const client of [...this.subscribers]) this.cutOne(client);
  }

  restoreSubscribers(): void {
    this.cutting = false;
  }

  /** Resolves once `n` subscriber connections have been cut in all. */
  async cutCount(n: number): Promise<void> {
    while (this.cut < n) await once(this, 'cut');
  }

  private cutOne(client: Socket): void {
    this.subscribers.delete(client);
    client.destroy();
    this.cut += 1;
    this.emit('cut');
  }
}

/** Log lines kept in memory, and a promise for the first line with a given message (and tier). */
function watchedLog() {
  const lines: Array<Record<string, unknown>> = [];
  const waiting: Array<{ msg: string; tier?: string; resolve: () => void }> = [];
  const matches = (line: Record<string, unknown>, msg: string, tier?: string) => line.msg === msg && (tier === undefined || line.tier === tier);
  const logger = createLogger('app', {
    write(text: string) {
      const line = JSON.parse(text) as Record<string, unknown>;
      lines.push(line);
      for (const waiter of waiting.filter((w) => matches(line, w.msg, w.tier))) waiter.resolve();
    },
  });
  const logged = (msg: string, tier?: string) => (lines.some((line) => matches(line, msg, tier)) ? Promise.resolve() : new Promise<void>((resolve) => waiting.push({ msg, tier, resolve })));
  const count = (msg: string, tier?: string) => lines.filter((line) => matches(line, msg, tier)).length;
  return { logger, lines, logged, count };
}

const FAILED = 'cache tier failed; its lookups are misses until it answers again';
const PUBSUB_FAILED = `cache tier failed; ${INVALIDATIONS_LOST} until it answers again`;
const RECOVERED = 'cache tier recovered';

/** A tier through the proxy, with its own log, failures by tier and one outage per connection. */
async function openTier(proxy: RedisProxy, keyPrefix: string) {
  const log = watchedLog();
  const failures: Array<{ tier: CacheTier; error: unknown }> = [];
  const failed = (tier: CacheTier) => failures.filter((failure) => failure.tier === tier).length;
  const metrics: CacheMetrics = { count: () => undefined, tierFailed: (tier, error) => void failures.push({ tier, error }) };
  const health = { commands: new TierOutage('shared', metrics, log.logger), pubsub: new TierOutage('shared_pubsub', metrics, log.logger, INVALIDATIONS_LOST) };
  const tier = await RedisSharedTier.connect({ url: `redis://127.0.0.1:${proxy.port}`, keyPrefix, timeoutMs: 2_000 }, health);
  return { tier, log, failed, health };
}

(REDIS_URL ? describe : describe.skip)('shared tier outage', () => {
  const target = new URL(REDIS_URL ?? 'redis://127.0.0.1:6379');
  const proxy = new RedisProxy({ host: target.hostname, port: Number(target.port || 6379) });
  const keyPrefix = `virtualize-test:${randomUUID()}:`;
  let opened: Awaited<ReturnType<typeof openTier>>;

  beforeAll(async () => {
    await proxy.start();
    opened = await openTier(proxy, keyPrefix);
  });
  afterAll(async () => {
    await opened?.tier.close();
    await proxy.stop();
  });

  it('counts every failed operation, logs the first, and logs the recovery once Redis answers again', async () => {
    const { tier, log, failed, health } = opened;
    const entry = { records: [{ id: 'c-1' }], fetchedAt: Date.UTC(2026, 0, 1) };
    await tier.setMany([{ key: 'k', entry, ttlMs: 60_000, tags: ['c-1'] }]);
    expect(await tier.getMany(['k'])).toEqual([entry]);
    expect(failed('shared')).toBe(0);
    expect(log.lines).toHaveLength(0);

    await proxy.stop();
    await log.logged(FAILED, 'shared');
    // Down: reads are misses, writes and invalidations are dropped; each is counted, none logged again.
    expect(await tier.getMany(['k'])).toEqual([undefined]);
    await tier.setMany([{ key: 'k2', entry, ttlMs: 60_000, tags: ['c-1'] }]);
    await tier.invalidate([{ entity: 'Customer', field: 'id', value: 'c-1' }]);
    expect(failed('shared')).toBe(3);
    expect(log.count(FAILED)).toBe(1);
    expect(log.lines.find((line) => line.msg === FAILED)).toMatchObject({ level: 40, tier: 'shared', reason: expect.any(String) });
    // The subscriber went down with it: an outage of its own, counted and logged once.
    await log.logged(PUBSUB_FAILED, 'shared_pubsub');

    await proxy.start();
    await log.logged(RECOVERED, 'shared');
    await log.logged(RECOVERED, 'shared_pubsub');
    expect(await tier.getMany(['k'])).toEqual([entry]);
    expect(failed('shared')).toBe(3);
    expect(failed('shared_pubsub')).toBe(1);
    expect(log.count(FAILED)).toBe(1);
    expect(log.count(PUBSUB_FAILED)).toBe(1);
    expect(log.count(RECOVERED, 'shared')).toBe(1);
    expect(log.count(RECOVERED, 'shared_pubsub')).toBe(1);
    expect(health.commands.failing).toBe(false);
    expect(health.pubsub.failing).toBe(false);
  });

  it('reads an entry that does not parse as a miss, not as a failure', async () => {
    const { tier, failed } = opened;
    const writer = new Redis(REDIS_URL!);
    try {
      // Written under the tier's prefix by something else: not JSON, and JSON of another shape.
      await writer.set(`${keyPrefix}e:garbled`, '{"records": [', 'PX', 60_000);
      await writer.set(`${keyPrefix}e:other`, '{"hello": "world"}', 'PX', 60_000);
      expect(await tier.getMany(['garbled', 'other', 'k'])).toEqual([undefined, undefined, expect.objectContaining({ records: [{ id: 'c-1' }] })]);
      expect(failed('shared')).toBe(3);
    } finally {
      await writer.quit();
    }
  });

  it('reports a subscriber cut alone once, while commands work, and its recovery once Redis confirms the subscription', async () => {
    const prefix = `virtualize-test:${randomUUID()}:`;
    const { tier, log, failed, health } = await openTier(proxy, prefix);
    // Another replica, straight to Redis: its invalidations are what the subscriber carries.
    const other = await RedisSharedTier.connect({ url: REDIS_URL!, keyPrefix: prefix, timeoutMs: 2_000 }, {
      commands: new TierOutage('shared', { count: () => undefined, tierFailed: () => undefined }, log.logger),
      pubsub: new TierOutage('shared_pubsub', { count: () => undefined, tierFailed: () => undefined }, log.logger, INVALIDATIONS_LOST),
    });
    const received: string[] = [];
    const arrivals = new EventEmitter();
    tier.onInvalidate((refs: EntityRef[]) => {
      received.push(...refs.map((ref) => ref.value));
      arrivals.emit('refs');
    });
    const reached = async (value: string) => {
      while (!received.includes(value)) await once(arrivals, 'refs');
    };
    try {
      await other.invalidate([{ entity: 'Customer', field: 'id', value: 'before' }]);
      await reached('before');

      const cutBefore = proxy.cut;
      proxy.cutSubscribers();
      await log.logged(PUBSUB_FAILED, 'shared_pubsub');
      // Several reconnections, each ready and then cut at its SUBSCRIBE: still one outage.
      await proxy.cutCount(cutBefore + 3);
      const entry = { records: [{ id: 'c-2' }], fetchedAt: Date.UTC(2026, 0, 1) };
      await tier.setMany([{ key: 'k', entry, ttlMs: 60_000, tags: ['c-2'] }]);
      expect(await tier.getMany(['k'])).toEqual([entry]);
      expect(await tier.getMany(['k'])).toEqual([entry]);
      await other.invalidate([{ entity: 'Customer', field: 'id', value: 'during' }]);
      expect(failed('shared_pubsub')).toBe(1);
      expect(failed('shared')).toBe(0);
      expect(log.count(PUBSUB_FAILED)).toBe(1);
      expect(log.lines.find((line) => line.msg === PUBSUB_FAILED)).toMatchObject({ level: 40, tier: 'shared_pubsub', reason: expect.any(String) });
      // Commands answering neither end the subscriber's outage nor log one of their own.
      expect(log.count(FAILED)).toBe(0);
      expect(log.count(RECOVERED)).toBe(0);
      expect(health.pubsub.failing).toBe(true);
      expect(health.commands.failing).toBe(false);

      proxy.restoreSubscribers();
      await log.logged(RECOVERED, 'shared_pubsub');
      await other.invalidate([{ entity: 'Customer', field: 'id', value: 'after' }]);
      await reached('after');
      // What was published while the subscriber was down never reached this replica.
      expect(received).toEqual(['before', 'after']);
      expect(failed('shared_pubsub')).toBe(1);
      expect(log.count(PUBSUB_FAILED)).toBe(1);
      expect(log.count(RECOVERED, 'shared_pubsub')).toBe(1);
      expect(log.count(RECOVERED, 'shared')).toBe(0);
      expect(log.count(FAILED)).toBe(0);
      expect(health.pubsub.failing).toBe(false);
    } finally {
      proxy.restoreSubscribers();
      await other.close();
      await tier.close();
    }
  });
});
