import { createReadStream } from 'node:fs';
import { CrosswalkFileError, crosswalkRows } from './crosswalk-rows';
import type { MappingStore } from './mapping-store';

/**
 * Streams a crosswalk CSV (header row first) into a mapping store, taking the two named columns
 * as (from, to). It is read by the same rules as an upload; a file named in the configuration has
 * no partial import, so its first rejected row refuses it. Rows are added in chunks, so a file of
 * millions of rows never sits in memory.
 */
export async function importCrosswalkCsv(
  store: MappingStore,
  mapping: string,
  file: string,
  columns: readonly [string, string],
): Promise<{ rows: number; added: number }> {
  let rows = 0;
  let added = 0;
  let pending: Array<[string, string]> = [];
  try {
    for await (const row of crosswalkRows(createReadStream(file), { format: 'csv', columns })) {
      rows += 1;
      if ('error' in row) throw new CrosswalkFileError(`line ${row.line}: ${row.error}; check the file and the header names in the mapping's columns`);
      pending.push(row.pair);
      if (pending.length >= 5_000) {
        added += await store.add(mapping, pending);
        pending = [];
      }
    }
  } catch (error) {
    throw error instanceof CrosswalkFileError ? new CrosswalkFileError(`${file}, ${error.message}`) : error;
  }
  added += await store.add(mapping, pending);
  return { rows, added };
}
