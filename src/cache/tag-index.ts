/**
 * Index from a tag (a key value, or a field value of a record) to the cache keys whose entry
 * holds it: what an invalidation by value reads. Each key's tags are kept with it, so that an
 * entry can be dropped from the index by its key alone, whatever entry held it last.
 */
export class TagIndex {
  private readonly keysByTag = new Map<string, Set<string>>();
  private readonly tagsByKey = new Map<string, readonly string[]>();

  /** Indexes `key` under `tags` (distinct), replacing what it was indexed under before. */
  set(key: string, tags: readonly string[]): void {
    this.delete(key);
    this.tagsByKey.set(key, tags);
    for (const tag of tags) {
      let keys = this.keysByTag.get(tag);
      if (!keys) this.keysByTag.set(tag, (keys = new Set()));
      keys.add(key);
    }
  }

  delete(key: string): void {
    const tags = this.tagsByKey.get(key);
    if (!tags) return;
    for (const tag of tags) {
      const keys = this.keysByTag.get(tag);
      keys?.delete(key);
      if (keys?.size === 0) this.keysByTag.delete(tag);
    }
    this.tagsByKey.delete(key);
  }

  /** The keys indexed under `tag`, as a copy (the caller may delete them while it iterates). */
  keysOf(tag: string): string[] {
    return [...(this.keysByTag.get(tag) ?? [])];
  }

  get size(): number {
    return this.tagsByKey.size;
  }

  clear(): void {
    this.keysByTag.clear();
    this.tagsByKey.clear();
  }
}

/**
 * What indexing `tags` costs in memory, counted in the size of the entry that holds them (and so
 * against the cache's `maxBytes`): each tag's string (UTF-16), its place in the tag map, its Set,
 * the key's membership in that Set and its slot in the key's own list. An estimate of V8's heap,
 * on the high side, as the entries' own sizes are.
 */
export function tagBytes(tags: readonly string[]): number {
  let bytes = 0;
  for (const tag of tags) bytes += 2 * tag.length + 120;
  return bytes;
}
