/**
 * Id mapping metadata: for each crosswalk mapping, the pairs (from value, to value) that join an
 * entity of one source to an entity of another. One value may have several partners (a customer
 * with two order accounts); a value with none is normal and answers an empty list.
 *
 * The engine only ever asks in batches, so that a store backed by a database answers one query
 * per join level.
 */
export interface MappingStore {
  /** For each from-side value, its to-side partners. */
  forward(mapping: string, fromValues: readonly string[]): Promise<Map<string, string[]>>;
  /** For each to-side value, its from-side partners. */
  reverse(mapping: string, toValues: readonly string[]): Promise<Map<string, string[]>>;
  /** Adds pairs to a mapping (an existing pair is kept once). */
  add(mapping: string, pairs: Iterable<readonly [string, string]>): Promise<number>;
  /** Adds the pairs of every batch, all of them or (on failure) none where the store can promise it; returns how many were new. */
  load(mapping: string, batches: AsyncIterable<ReadonlyArray<readonly [string, string]>>): Promise<number>;
  /** Forgets every pair of a mapping (it was removed). */
  remove(mapping: string): Promise<void>;
  /** How many pairs a mapping holds. */
  count(mapping: string): Promise<number>;
  close(): Promise<void>;
}

class PairIndex {
  readonly forward = new Map<string, string[]>();
  readonly reverse = new Map<string, string[]>();
  size = 0;

  add(from: string, to: string): boolean {
    const partners = this.forward.get(from);
    if (partners?.includes(to)) return false;
    this.size += 1;
    if (partners) partners.push(to);
    else this.forward.set(from, [to]);
    const back = this.reverse.get(to);
    if (back) back.push(from);
    else this.reverse.set(to, [from]);
    return true;
  }
}

function pick(index: Map<string, string[]> | undefined, values: readonly string[]): Map<string, string[]> {
  return new Map(values.map((value) => [value, index?.get(value) ?? []]));
}

/** The embedded store: both directions indexed in memory. */
export class MemoryMappingStore implements MappingStore {
  private readonly mappings = new Map<string, PairIndex>();

  async forward(mapping: string, fromValues: readonly string[]): Promise<Map<string, string[]>> {
    return pick(this.mappings.get(mapping)?.forward, fromValues);
  }

  async reverse(mapping: string, toValues: readonly string[]): Promise<Map<string, string[]>> {
    return pick(this.mappings.get(mapping)?.reverse, toValues);
  }

  async add(mapping: string, pairs: Iterable<readonly [string, string]>): Promise<number> {
    let index = this.mappings.get(mapping);
    if (!index) {
      index = new PairIndex();
      this.mappings.set(mapping, index);
    }
    let added = 0;
    for (const [from, to] of pairs) if (index.add(from, to)) added += 1;
    return added;
  }

  /** Every batch is read before any pair is added: readers never see part of a load, nor any of one that failed. */
  async load(mapping: string, batches: AsyncIterable<ReadonlyArray<readonly [string, string]>>): Promise<number> {
    const read: Array<ReadonlyArray<readonly [string, string]>> = [];
    for await (const batch of batches) read.push(batch);
    return this.add(mapping, read.flat());
  }

  /** Drops the mapping's index whole, so its memory is returned. */
  async remove(mapping: string): Promise<void> {
    this.mappings.delete(mapping);
  }

  async count(mapping: string): Promise<number> {
    return this.mappings.get(mapping)?.size ?? 0;
  }

  async close(): Promise<void> {}
}
