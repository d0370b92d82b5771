import { createReadStream } from 'node:fs';
import { parse } from 'csv-parse';
import type { MappingStore } from './mapping-store';

export class CrosswalkFileError extends Error {
  readonly code = 'INVALID_CROSSWALK';
}

/**
 * Streams a crosswalk CSV (header row first) into a mapping store, taking the two named columns
 * as (from, to). Rows are added in chunks, so a file of millions of rows never sits in memory.
 */
export async function importCrosswalkCsv(
  store: MappingStore,
  mapping: string,
  file: string,
  columns: readonly [string, string],
): Promise<{ rows: number; added: number }> {
  const parser = createReadStream(file).pipe(parse({ columns: true, trim: true, skip_empty_lines: true }));
  let rows = 0;
  let added = 0;
  let pending: Array<[string, string]> = [];
  for await (const row of parser as AsyncIterable<Record<string, string | undefined>>) {
    rows += 1;
    const from = row[columns[0]];
    const to = row[columns[1]];
    if (!from || !to) {
      parser.destroy();
      throw new CrosswalkFileError(
        `${file}, data row ${rows}: columns "${columns[0]}" and "${columns[1]}" must both have a value (found ${JSON.stringify(row)}); check the header names in the mapping's columns`,
      );
    }
    pending.push([from, to]);
    if (pending.length >= 5_000) {
      added += await store.add(mapping, pending);
      pending = [];
    }
  }
  added += await store.add(mapping, pending);
  return { rows, added };
}
