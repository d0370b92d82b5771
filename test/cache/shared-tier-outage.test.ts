/**
 * An outage of the shared tier, against the real Redis (REDIS_URL) behind a loopback proxy that
 * the test owns and stops: every failed operation is counted, the first failure is logged and
 * nothing more until Redis answers again, which is logged as its recovery. Lookups meanwhile are
 * misses, never errors. Runs only when REDIS_URL is set.
 */
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { Redis } from 'ioredis';
import { TierOutage, type CacheMetrics } from '../../src/cache/cache-telemetry';
import { RedisSharedTier } from '../../src/cache/shared-tier';
import { createLogger } from '../../src/telemetry/logger';

const REDIS_URL = process.env.REDIS_URL;
if (!REDIS_URL) console.log('shared-tier-outage.test.ts: skipped, REDIS_URL is not set');

/** A TCP proxy to Redis on a loopback port: stopping it is an outage of every connection through it. */
class RedisProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(private readonly target: { host: string; port: number }) {}

  async start(): Promise<void> {
    const server = createServer((client) => {
      const upstream = connect(this.target);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
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
}

/** Log lines kept in memory, and a promise for the first line with a given message. */
function watchedLog() {
  const lines: Array<Record<string, unknown>> = [];
  const waiting: Array<{ msg: string; resolve: () => void }> = [];
  const logger = createLogger('app', {
    write(text: string) {
      const line = JSON.parse(text) as Record<string, unknown>;
      lines.push(line);
      for (const waiter of waiting.filter((w) => w.msg === line.msg)) waiter.resolve();
    },
  });
  const logged = (msg: string) => (lines.some((line) => line.msg === msg) ? Promise.resolve() : new Promise<void>((resolve) => waiting.push({ msg, resolve })));
  const count = (msg: string) => lines.filter((line) => line.msg === msg).length;
  return { logger, lines, logged, count };
}

const FAILED = 'cache tier failed; its lookups are misses until it answers again';
const RECOVERED = 'cache tier recovered';

(REDIS_URL ? describe : describe.skip)('shared tier outage', () => {
  const target = new URL(REDIS_URL ?? 'redis://127.0.0.1:6379');
  const proxy = new RedisProxy({ host: target.hostname, port: Number(target.port || 6379) });
  const log = watchedLog();
  const failures: unknown[] = [];
  const metrics: CacheMetrics = { count: () => undefined, tierFailed: (_tier, error) => void failures.push(error) };
  const health = new TierOutage('shared', metrics, log.logger);
  const keyPrefix = `virtualize-test:${randomUUID()}:`;
  let tier: RedisSharedTier;

  beforeAll(async () => {
    await proxy.start();
    tier = await RedisSharedTier.connect({ url: `redis://127.0.0.1:${proxy.port}`, keyPrefix, timeoutMs: 2_000 }, health);
  });
  afterAll(async () => {
    await tier?.close();
    await proxy.stop();
  });

  it('counts every failed operation, logs the first, and logs the recovery once Redis answers again', async () => {
    const entry = { records: [{ id: 'c-1' }], fetchedAt: Date.UTC(2026, 0, 1) };
    await tier.setMany([{ key: 'k', entry, ttlMs: 60_000, tags: ['c-1'] }]);
    expect(await tier.getMany(['k'])).toEqual([entry]);
    expect(failures).toHaveLength(0);
    expect(log.lines).toHaveLength(0);

    await proxy.stop();
    await log.logged(FAILED);
    // Down: reads are misses, writes and invalidations are dropped; each is counted, none logged again.
    expect(await tier.getMany(['k'])).toEqual([undefined]);
    await tier.setMany([{ key: 'k2', entry, ttlMs: 60_000, tags: ['c-1'] }]);
    await tier.invalidate([{ entity: 'Customer', field: 'id', value: 'c-1' }]);
    expect(failures).toHaveLength(3);
    expect(log.count(FAILED)).toBe(1);
    expect(log.lines.find((line) => line.msg === FAILED)).toMatchObject({ level: 40, tier: 'shared', reason: expect.any(String) });

    await proxy.start();
    await log.logged(RECOVERED);
    expect(await tier.getMany(['k'])).toEqual([entry]);
    expect(failures).toHaveLength(3);
    expect(log.count(FAILED)).toBe(1);
    expect(log.count(RECOVERED)).toBe(1);
    expect(health.failing).toBe(false);
  });

  it('reads an entry that does not parse as a miss, not as a failure', async () => {
    const writer = new Redis(REDIS_URL!);
    try {
      // Written under the tier's prefix by something else: not JSON, and JSON of another shape.
      await writer.set(`${keyPrefix}e:garbled`, '{"records": [', 'PX', 60_000);
      await writer.set(`${keyPrefix}e:other`, '{"hello": "world"}', 'PX', 60_000);
      expect(await tier.getMany(['garbled', 'other', 'k'])).toEqual([undefined, undefined, expect.objectContaining({ records: [{ id: 'c-1' }] })]);
      expect(failures).toHaveLength(3);
    } finally {
      await writer.quit();
    }
  });
});
