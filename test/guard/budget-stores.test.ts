/**
 * One contract, two stores: the in-process buckets and the Redis ones (against the real Redis when
 * REDIS_URL is set). A bucket is taken from only when it holds enough, refills at its rate, never
 * exceeds its capacity, and stays atomic under concurrent takes.
 */
import { randomUUID } from 'node:crypto';
import type { BudgetStore } from '../../src/guard/budget-store';
import { MemoryBudgetStore } from '../../src/guard/memory-budget-store';
import { RedisBudgetStore } from '../../src/guard/redis-budget-store';
import { ManualClock } from '../support/manual-clock';

const POLICY = { capacity: 1_000, restoreRate: 100 };
const REDIS_URL = process.env.REDIS_URL;

interface Subject {
  store: BudgetStore;
  /** The store's clock: a test moves it to let a bucket refill. */
  clock: ManualClock;
}

function memorySubject(): Subject {
  const clock = new ManualClock();
  return { store: new MemoryBudgetStore(POLICY, { clock }), clock };
}

async function redisSubject(url: string): Promise<Subject> {
  // In production Redis's TIME is the clock every replica shares; here the script is given the
  // manual clock's time instead, so the buckets' arithmetic is exact.
  const clock = new ManualClock();
  const store = await RedisBudgetStore.connect(POLICY, { url, keyPrefix: `virtualize-test:${randomUUID()}:`, clock });
  return { store, clock };
}

const subjects: Array<[string, () => Promise<Subject>]> = [['memory', () => Promise.resolve(memorySubject())]];
if (REDIS_URL) subjects.push(['redis', () => redisSubject(REDIS_URL)]);
else console.log('Redis budget store tests skipped: set REDIS_URL (for example redis://127.0.0.1:6379) to run them');

describe.each(subjects)('%s budget store', (_name, open) => {
  let subject: Subject;
  beforeEach(async () => {
    subject = await open();
  });
  afterEach(() => subject.store.close());

  it('starts full, takes what it holds, and refuses without taking when it holds too little', async () => {
    const { store } = subject;
    expect(await store.peek('a')).toEqual({ maximumAvailable: 1_000, currentlyAvailable: 1_000, restoreRate: 100 });
    const first = await store.take('a', 700);
    expect(first.granted).toBe(true);
    expect(first.status.currentlyAvailable).toBe(300);
    const second = await store.take('a', 500);
    expect(second.granted).toBe(false);
    // 200 points missing at 100 points per second.
    expect(second.retryAfterMs).toBe(2_000);
    expect((await store.peek('a')).currentlyAvailable).toBe(300);
    // Clients do not share buckets.
    expect((await store.take('b', 1_000)).granted).toBe(true);
  });

  it('refills at its rate up to its capacity, and takes back unused points without exceeding it', async () => {
    const { store, clock } = subject;
    await store.take('a', 800);
    clock.advance(500);
    expect((await store.peek('a')).currentlyAvailable).toBe(250);
    clock.advance(1);
    expect((await store.peek('a')).currentlyAvailable).toBe(250.1);
    expect((await store.give('a', 300)).currentlyAvailable).toBe(550.1);
    expect((await store.give('a', 5_000)).currentlyAvailable).toBe(1_000);
    // Refilling stops at the capacity.
    await store.take('a', 100);
    clock.advance(60_000);
    expect((await store.peek('a')).currentlyAvailable).toBe(1_000);
  });

  it('grants concurrent takes only while the bucket holds enough', async () => {
    const results = await Promise.all(Array.from({ length: 20 }, () => subject.store.take('a', 100)));
    expect(results.filter((r) => r.granted)).toHaveLength(10);
  });
});

describe('memory budget store, beyond the contract', () => {
  it('forgets the least recently seen client beyond maxClients: a forgotten bucket is full', async () => {
    const store = new MemoryBudgetStore(POLICY, { maxClients: 2, clock: new ManualClock() });
    await store.take('a', 500);
    await store.take('b', 500);
    await store.take('c', 500);
    expect((await store.peek('a')).currentlyAvailable).toBe(1_000);
    expect((await store.peek('c')).currentlyAvailable).toBe(500);
  });
});

(REDIS_URL ? describe : describe.skip)('redis budget store, beyond the contract', () => {
  it('shares one bucket between stores, as between replicas', async () => {
    const keyPrefix = `virtualize-test:${randomUUID()}:`;
    const [one, two] = await Promise.all([RedisBudgetStore.connect(POLICY, { url: REDIS_URL!, keyPrefix }), RedisBudgetStore.connect(POLICY, { url: REDIS_URL!, keyPrefix })]);
    try {
      expect((await one.take('client', 600)).granted).toBe(true);
      expect((await two.take('client', 600)).granted).toBe(false);
    } finally {
      await Promise.all([one.close(), two.close()]);
    }
  });

  it('fails at start with a message that names the host and the setting, not the password', async () => {
    await expect(RedisBudgetStore.connect(POLICY, { url: 'redis://:secret@127.0.0.1:1', timeoutMs: 200 })).rejects.toThrow(
      /cannot reach Redis at 127\.0\.0\.1:1 .*guard\.budget\.store\.url/,
    );
    await expect(RedisBudgetStore.connect(POLICY, { url: 'redis://:secret@127.0.0.1:1', timeoutMs: 200 })).rejects.not.toThrow(/secret/);
  });
});
