import LinkHeader from 'http-link-header';
import type { ListPaging } from '../config/definition';
import { CODES } from '../errors';
import { SourceError } from './errors';
import type { JsonResponse } from './http-client';
import { listByCursor } from './paging/cursor-paging';
import type { ListPage, ListRequest, PageSource } from './paging/list-page';
import { listByOffset } from './paging/offset-paging';
import { listByPageNumber } from './paging/page-number-paging';
import { listByUrl } from './paging/url-paging';
import type { CanonicalRecord } from './record-mapper';

/**
 * A lookup by a non-unique key (a customer's orders) may span pages. A short list is never served
 * as the whole answer: an undeclared paging the source announces, or a declared one that reaches
 * its bound, fails the call's keys with SOURCE_PAGE_LIMIT.
 */

/** Records per upstream page of a paging kind. */
function pageSizeOf(paging: ListPaging): number {
  return paging.type === 'page' ? paging.pageSize : paging.maxPageSize;
}

/** An answer that says more records follow: a `Link` header with rel="next" (RFC 8288). */
export function announcesMore(response: JsonResponse): boolean {
  if (!response.link) return false;
  try {
    return LinkHeader.parse(response.link).has('rel', 'next');
  } catch {
    // An unreadable Link header is no proof of a next page, nor of none: treated as a next page.
    return true;
  }
}

export function pageLimitError(source: string, route: string, keys: readonly string[], why: string): SourceError {
  const key = keys.length === 1 ? `key ${keys[0]}` : `${keys.length} keys`;
  return new SourceError(CODES.SOURCE_PAGE_LIMIT, source, route, `Source ${source} has more records for ${key} of ${route} than were read: ${why}`);
}

/** The lookup's answer had no records at all (a 404 to a one-value path): not a failure. */
export class NoRecords extends Error {}

/**
 * Every record of one lookup call, page after page as the lookup's `paging` declares, at most
 * `maxPages` upstream calls. More than that fails with SOURCE_PAGE_LIMIT.
 */
export async function followLookupPages(source: string, pages: PageSource, paging: ListPaging, maxPages: number, keys: readonly string[]): Promise<CanonicalRecord[]> {
  let calls = 0;
  const counted = <T>(call: () => Promise<T>): Promise<T> => {
    calls += 1;
    if (calls > maxPages) return Promise.reject(pageLimitError(source, pages.route, keys, `maxPages (${maxPages}) pages were read and more follow; raise the lookup's maxPages`));
    return call();
  };
  const bounded: PageSource = {
    ...pages,
    fetchPage: (params, size) => counted(() => pages.fetchPage(params, size)),
    fetchUrl: (url, size) => counted(() => pages.fetchUrl(url, size)),
  };
  const size = pageSizeOf(paging);
  const request: ListRequest = { first: maxPages * size };
  let page: ListPage;
  try {
    switch (paging.type) {
      case 'page':
        page = await listByPageNumber(source, bounded, paging, size, request);
        break;
      case 'offset':
        page = await listByOffset(source, bounded, paging, size, request);
        break;
      case 'link':
      case 'nextUrl':
        page = await listByUrl(source, bounded, paging, size, request);
        break;
      case 'cursor':
        page = await listByCursor(bounded, paging, size, request);
        break;
    }
  } catch (error) {
    if (error instanceof NoRecords) return [];
    throw error;
  }
  if (page.hasNextPage) throw pageLimitError(source, pages.route, keys, `maxPages (${maxPages}) pages of ${size} were read and more follow; raise the lookup's maxPages`);
  return page.records;
}
