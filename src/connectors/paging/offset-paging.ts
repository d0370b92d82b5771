import type { OffsetPaging } from '../../config/definition';
import { ForeignCursorError } from '../errors';
import { readPath, type CanonicalRecord } from '../record-mapper';
import type { ListPage, ListRequest, PageSource } from './list-page';
import { offsetCursor, readOffsetCursor } from './page-number-paging';

/**
 * Offset and limit paging: each call asks for what `first` still needs, at most `maxPageSize`
 * records, so a client page takes ceil(first / maxPageSize) calls, as the guard predicts. The
 * cursor handed to clients is an offset of ours (raw records, rejected ones included).
 */
export async function listByOffset(source: string, pages: PageSource, paging: OffsetPaging, maxPageSize: number, request: ListRequest): Promise<ListPage> {
  const start = request.after ? readOffsetCursor(request.after) : 0;
  if (start === undefined) throw new ForeignCursorError(source, pages.route, request.after!);
  const records: CanonicalRecord[] = [];
  let offset = start;
  let totalCount: number | null = null;
  let remaining = Math.max(1, request.first);
  let more = true;
  while (remaining > 0 && more) {
    const limit = Math.min(remaining, maxPageSize);
    const response = await pages.fetchPage({ [paging.offsetParam]: String(offset), [paging.limitParam]: String(limit) }, limit);
    const items = pages.rawRecords(response.body).slice(0, limit);
    if (paging.totalPath) {
      const total = readPath(response.body, paging.totalPath);
      totalCount = typeof total === 'number' ? total : null;
    }
    for (const item of items) {
      const record = pages.mapRecord(item);
      if (record) records.push(record);
    }
    offset += items.length;
    remaining -= limit;
    more = items.length === limit && (totalCount === null || offset < totalCount);
  }
  if (request.first <= 0) return { records: [], nextCursor: request.after ?? null, hasNextPage: records.length > 0, totalCount };
  return { records, nextCursor: more ? offsetCursor(offset) : null, hasNextPage: more, totalCount };
}
