import type { CursorPaging } from '../../config/definition';
import { readPath, type CanonicalRecord } from '../record-mapper';
import type { ListPage, ListRequest, PageSource } from './list-page';

/**
 * The next cursor a page hands out: the body's (`nextCursorPath`), or, for a source that only says
 * more follow (`hasMorePath`, Stripe `has_more`), the last raw record's (`lastRecordCursorPath`, `id`).
 */
function nextCursor(paging: CursorPaging, body: unknown, items: readonly unknown[]): string | null {
  if (paging.hasMorePath !== undefined && readPath(body, paging.hasMorePath) !== true) return null;
  const next = paging.lastRecordCursorPath !== undefined ? readPath(items[items.length - 1], paging.lastRecordCursorPath) : readPath(body, paging.nextCursorPath ?? '');
  if (typeof next === 'number' && Number.isFinite(next)) return String(next);
  return typeof next === 'string' && next !== '' ? next : null;
}

/**
 * Cursor paging: the source hands out its own cursors, which are passed to clients as they are.
 * One page of the answer is fetched in as many upstream pages as `first` needs, each at most
 * `maxPageSize` records: the catalog list's `pageSize`, which the guard predicts calls by.
 */
export async function listByCursor(pages: PageSource, paging: CursorPaging, maxPageSize: number, request: ListRequest): Promise<ListPage> {
  const records: CanonicalRecord[] = [];
  let cursor = request.after ?? null;
  let totalCount: number | null = null;
  let remaining = request.first;
  do {
    // Even `first: 0` asks for one record: the call still answers totalCount.
    const pageSize = Math.max(1, Math.min(remaining, maxPageSize));
    const response = await pages.fetchPage({ [paging.limitParam]: String(pageSize), ...(cursor ? { [paging.cursorParam]: cursor } : {}) }, pageSize);
    const body = response.body;
    const items = pages.rawRecords(body);
    for (const item of items) {
      const record = pages.mapRecord(item);
      if (record) records.push(record);
    }
    cursor = items.length > 0 || paging.lastRecordCursorPath === undefined ? nextCursor(paging, body, items) : null;
    if (paging.totalPath) {
      const total = readPath(body, paging.totalPath);
      totalCount = typeof total === 'number' ? total : null;
    }
    remaining -= pageSize;
  } while (remaining > 0 && cursor);
  // `first: 0` fetched one record only to learn totalCount: the page is empty and ends where it
  // began, so the next page must start at `after` again, not behind the record it fetched.
  if (request.first <= 0) return { records: [], nextCursor: request.after ?? null, hasNextPage: records.length > 0, totalCount };
  return { records: records.slice(0, request.first), nextCursor: cursor, hasNextPage: cursor !== null, totalCount };
}
