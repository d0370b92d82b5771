/** What the upstream-call cache keeps per key: the records, when they were fetched, the tags an invalidation names, and the size it is counted at. */
import type { CanonicalRecord } from '../connectors/record-mapper';
import type { RejectionSink } from '../connectors/record-rejections';
import { CODES, VirtualizeError } from '../errors';
import { tagBytes } from './tag-index';

export interface Entry {
  records: CanonicalRecord[];
  /** When the source answered, on the clock's monotonic scale (earlier than the entry, when it came from the shared tier). */
  fetchedAt: number;
  /** What an invalidation names to drop it: the key's value and the records' short field values. */
  tags: readonly string[];
  /** The source said `no-store`: handed to the lookups that waited for it, then dropped. */
  noStore?: true;
  /**
   * Records of the key's answer that the mapping left out, by reason: reported again by every
   * lookup it answers (`extensions.rejected`), so that a cached answer never passes for complete.
   */
  rejected?: readonly RejectedCount[];
}

/** Rejected records of one entry under one reason (the source and entity are the entry's key's). */
export interface RejectedCount {
  reason: string;
  count: number;
}

/**
 * The records one source call left out, by the asked value they answered (read from their raw key
 * field). Those no value claims go with the first entry asked for (so that the request counts them
 * once), and keep every entry of the call from being stored: no later answer could tell them.
 */
export class FillRejections {
  private readonly byValue = new Map<string, Map<string, number>>();
  private readonly unclaimedCounts = new Map<string, number>();
  private unclaimedTold = false;

  readonly add: RejectionSink = ({ reason }, count, value) => {
    let counts = value === undefined ? this.unclaimedCounts : this.byValue.get(value);
    if (!counts) this.byValue.set(value!, (counts = new Map()));
    counts.set(reason, (counts.get(reason) ?? 0) + count);
  };

  get unclaimed(): boolean {
    return this.unclaimedCounts.size > 0;
  }

  /** The counts the entry of `value` keeps; the unclaimed ones with the first entry asked for. */
  of(value: string): RejectedCount[] | undefined {
    const counts = new Map(this.byValue.get(value));
    if (!this.unclaimedTold) {
      for (const [reason, count] of this.unclaimedCounts) counts.set(reason, (counts.get(reason) ?? 0) + count);
      this.unclaimedTold = true;
    }
    return counts.size === 0 ? undefined : [...counts].map(([reason, count]) => ({ reason, count }));
  }
}

/** Tells `sink` of the rejected records each entry served holds (each entry once). */
export function reportRejected(source: string, entity: string, entries: ReadonlyArray<Entry | undefined>, sink: RejectionSink | undefined): void {
  if (!sink) return;
  const seen = new Set<Entry>();
  for (const entry of entries) {
    if (!entry?.rejected || seen.has(entry)) continue;
    seen.add(entry);
    for (const { reason, count } of entry.rejected) sink({ source, entity, reason }, count);
  }
}

/** The bytes an entry is counted at against the cache's bound. */
export function sizeOf(entry: Entry, key: string): number {
  // JSON length is a fair proxy of heap use (UTF-16 strings, object overhead): counted twice.
  return 2 * (key.length + JSON.stringify(entry.records).length + (entry.rejected ? JSON.stringify(entry.rejected).length : 0)) + 64 + tagBytes(entry.tags);
}

/**
 * The answer of a lookup: per asked value its error, else its records. A value with neither was
 * never answered: an error, never an empty list that would read as "no record".
 */
export function answerOf(values: readonly string[], entries: ReadonlyArray<Entry | undefined>, errors: ReadonlyArray<Error | undefined>): Map<string, CanonicalRecord[] | Error> {
  const answer = new Map<string, CanonicalRecord[] | Error>();
  values.forEach((value, i) => answer.set(value, errors[i] ?? entries[i]?.records ?? new VirtualizeError(CODES.INTERNAL_SERVER_ERROR, 'the upstream-call cache holds no answer for an asked value')));
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
