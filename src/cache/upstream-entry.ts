/** What the upstream-call cache keeps per key: the records, when they were fetched, the tags an invalidation names, and the size it is counted at. */
import type { CanonicalRecord } from '../connectors/record-mapper';
import { tagBytes } from './tag-index';

export interface Entry {
  records: CanonicalRecord[];
  /** When the source answered, on the clock's monotonic scale (earlier than the entry, when it came from the shared tier). */
  fetchedAt: number;
  /** What an invalidation names to drop it: the key's value and the records' short field values. */
  tags: readonly string[];
  /** The source said `no-store`: handed to the lookups that waited for it, then dropped. */
  noStore?: true;
}

/** The bytes an entry is counted at against the cache's bound. */
export function sizeOf(entry: Entry, key: string): number {
  // JSON length is a fair proxy of heap use (UTF-16 strings, object overhead): counted twice.
  return 2 * (key.length + JSON.stringify(entry.records).length) + 64 + tagBytes(entry.tags);
}

/** The answer of a lookup: per asked value its error, else its records. */
export function answerOf(values: readonly string[], entries: ReadonlyArray<Entry | undefined>, errors: ReadonlyArray<Error | undefined>): Map<string, CanonicalRecord[] | Error> {
  const answer = new Map<string, CanonicalRecord[] | Error>();
  values.forEach((value, i) => answer.set(value, errors[i] ?? entries[i]?.records ?? []));
  return answer;
}

/** The key's own value and every short field value of the records (distinct): what an invalidation names. */
export function tagsOf(value: string, records: readonly CanonicalRecord[]): string[] {
  const tags = new Set<string>([value]);
  for (const record of records) {
    for (const field of Object.values(record)) if (isKeyLike(field)) tags.add(String(field));
  }
  return [...tags];
}

function isKeyLike(value: unknown): value is string | number {
  return typeof value === 'string' ? value.length > 0 && value.length <= 200 : typeof value === 'number';
}
