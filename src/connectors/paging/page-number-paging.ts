import type { PageNumberPaging } from '../../config/definition';
import { ForeignCursorError } from '../errors';
import { readPath, type CanonicalRecord } from '../record-mapper';
import type { ListPage, ListRequest, PageSource } from './list-page';

/** Page-number lists hand out offsets as cursors, opaque to clients. */
export function offsetCursor(offset: number): string {
  return Buffer.from(`offset:${offset}`).toString('base64url');
}

/** The offset a cursor of ours stands for; undefined for a cursor this gateway did not issue. */
export function readOffsetCursor(cursor: string): number | undefined {
  const match = /^offset:([0-9]{1,15})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  return match ? Number(match[1]) : undefined;
}

/**
 * Page-number paging. The cursor is an offset into the source's order; it is turned into a page
 * number and a number of records to skip on that page. Offsets count raw records, so that a
 * record rejected by the mapping does not shift the pages that follow. Every upstream page holds
 * `pageSize` records: the catalog list's, which the guard predicts calls by.
 */
export async function listByPageNumber(source: string, pages: PageSource, paging: PageNumberPaging, pageSize: number, request: ListRequest): Promise<ListPage> {
  const start = request.after ? readOffsetCursor(request.after) : 0;
  if (start === undefined) throw new ForeignCursorError(source, pages.route, request.after!);
  const wanted = Math.max(1, request.first);
  const records: CanonicalRecord[] = [];
  let offset = start;
  let totalCount: number | null = null;
  let more = true;
  while (records.length < wanted && more) {
    const page = Math.floor(offset / pageSize);
    const response = await pages.fetchPage({ [paging.pageParam]: String(page + paging.firstPage), [paging.sizeParam]: String(pageSize) }, pageSize);
    const items = pages.rawRecords(response.body);
    if (paging.totalPath) {
      const total = readPath(response.body, paging.totalPath);
      totalCount = typeof total === 'number' ? total : null;
    }
    const onPage = items.slice(offset - page * pageSize);
    for (const item of onPage) {
      if (records.length === wanted) break;
      offset += 1;
      const record = pages.mapRecord(item);
      if (record) records.push(record);
    }
    const pageEnd = page * pageSize + items.length;
    const sourceHasMore = items.length === pageSize && (totalCount === null || pageEnd < totalCount);
    more = offset < pageEnd || sourceHasMore;
  }
  if (request.first <= 0) return { records: [], nextCursor: request.after ?? null, hasNextPage: records.length > 0, totalCount };
  return { records, nextCursor: more ? offsetCursor(offset) : null, hasNextPage: more, totalCount };
}
