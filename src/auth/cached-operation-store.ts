/**
 * The trusted-documents manifest as requests read it: the registry's store behind a bounded
 * in-memory cache (lru-cache, with its in-flight de-duplication), so that a dashboard polling one
 * operation by id costs the store one read, however many replicas' worth of requests ask.
 */
import { LRUCache } from 'lru-cache';
import { systemClock, type Clock } from '../time/clock';
import type { OperationStore, TrustedOperation } from './caller';

/** What a lookup found: the operation, or that there is none (for a while). */
const ABSENT = Object.freeze({ absent: true as const });
type Slot = TrustedOperation | typeof ABSENT;

export interface CachedOperationStoreOptions {
  /** What the cache of absent ids is timed on; default the process's clocks. */
  clock?: Clock;
  /** Bytes of documents held at most (each counted by its text, plus a little for the entry). */
  maxBytes?: number;
  /**
   * How long an id found absent is answered absent without asking the store again, in
   * milliseconds: what keeps a flood of made-up ids off the store. An operation pushed on this
   * replica is found at once; one pushed on another replica, within this time.
   */
  absentTtlMs?: number;
}

const ENTRY_BYTES = 200;

export class CachedOperationStore implements OperationStore {
  private readonly cache: LRUCache<string, Slot>;

  constructor(
    private readonly store: OperationStore,
    options: CachedOperationStoreOptions = {},
  ) {
    const absentTtlMs = options.absentTtlMs ?? 5_000;
    this.cache = new LRUCache<string, Slot>({
      maxSize: options.maxBytes ?? 16 * 1024 * 1024,
      sizeCalculation: (slot) => ENTRY_BYTES + ('document' in slot ? slot.document.length : 0),
      perf: options.clock ?? systemClock,
      // Read the clock at every check: lru-cache's default caches it for 1 ms behind a timer.
      ttlResolution: 0,
      fetchMethod: async (hash, _stale, { options: entry }) => {
        const found = await this.store.find(hash);
        if (found) return found;
        // A registered operation never changes under its hash, so only absence expires.
        entry.ttl = absentTtlMs;
        return ABSENT;
      },
    });
  }

  async find(hash: string): Promise<TrustedOperation | undefined> {
    const slot = await this.cache.fetch(hash);
    return slot === undefined || slot === ABSENT ? undefined : (slot as TrustedOperation);
  }

  /** Writes through to the store; ids that were absent are asked for again from now on. */
  async put(operations: readonly TrustedOperation[]): Promise<void> {
    await this.store.put(operations);
    for (const operation of operations) this.cache.delete(operation.hash);
  }

  list(limit: number): Promise<TrustedOperation[]> {
    return this.store.list(limit);
  }
}
