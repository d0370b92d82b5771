import LinkHeader from 'http-link-header';
import type { LinkHeaderPaging, NextUrlPaging } from '../../config/definition';
import { CODES } from '../../errors';
import { ForeignCursorError, SourceError } from '../errors';
import { readPath, type CanonicalRecord } from '../record-mapper';
import type { JsonResponse } from '../http-client';
import type { ListPage, ListRequest, PageSource } from './list-page';

type UrlPaging = LinkHeaderPaging | NextUrlPaging;

/** The longest next-page URL followed or accepted back from a client. */
const MAX_URL_LENGTH = 4096;

/**
 * A URL the source or a client handed us, if it is on the list's origin (scheme, host, port) and
 * under the list's path; undefined otherwise. Relative URLs are read against the list's origin.
 */
function onList(listUrl: URL, text: string): URL | undefined {
  if (text.length > MAX_URL_LENGTH) return undefined;
  let url: URL;
  try {
    url = new URL(text, listUrl.origin);
  } catch {
    return undefined;
  }
  const under = listUrl.pathname.replace(/\/$/, '');
  const pathOk = url.pathname === under || url.pathname.startsWith(`${under}/`) || url.pathname.startsWith(`${under}.`) || under === '';
  return url.origin === listUrl.origin && url.username === '' && url.password === '' && pathOk ? url : undefined;
}

/** The cursor handed to clients: the page's URL (path and query) and how many of its raw records were served already. */
function urlCursor(url: URL, skip: number): string {
  return Buffer.from(JSON.stringify({ u: url.pathname + url.search, s: skip })).toString('base64url');
}

function readUrlCursor(listUrl: URL, cursor: string): { url: URL; skip: number } | undefined {
  if (cursor.length > MAX_URL_LENGTH * 2) return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { u?: unknown; s?: unknown };
    if (typeof parsed.u !== 'string' || !parsed.u.startsWith('/') || parsed.u.startsWith('//')) return undefined;
    const skip = parsed.s;
    if (typeof skip !== 'number' || !Number.isInteger(skip) || skip < 0 || skip > 10_000) return undefined;
    const url = onList(listUrl, parsed.u);
    return url ? { url, skip } : undefined;
  } catch {
    return undefined;
  }
}

/** The next page's URL as the source gives it (Link header or body); null at the end. */
function nextLink(paging: UrlPaging, response: JsonResponse): string | null {
  if (paging.type === 'link') {
    if (!response.link) return null;
    const found = LinkHeader.parse(response.link).get('rel', paging.rel)[0];
    return found?.uri ?? null;
  }
  const body = response.body;
  if (paging.hasMorePath !== undefined && readPath(body, paging.hasMorePath) !== true) return null;
  if (paging.donePath !== undefined && readPath(body, paging.donePath) === true) return null;
  const next = readPath(body, paging.nextUrlPath);
  return typeof next === 'string' && next !== '' ? next : null;
}

/**
 * Paging by next-page URLs the source hands out (a `Link` header, or a URL in the body). The first
 * call is the list's own, with its query and filters; later calls follow the source's URL as
 * given (a Link header's with only the limit set). A client page may end inside a source page:
 * its cursor then starts on that page again, past the records already served. A URL off the source's origin or
 * outside the list's path is refused (SOURCE_BAD_RESPONSE) and never followed. Clients get an
 * opaque cursor (the page's URL and the records of it already served), checked the same way when it
 * comes back. At most ceil(first / maxPageSize) calls, as the guard predicts.
 */
export async function listByUrl(source: string, pages: PageSource, paging: UrlPaging, maxPageSize: number, request: ListRequest): Promise<ListPage> {
  let at: { url: URL; skip: number } | null = null;
  if (request.after) {
    const read = readUrlCursor(pages.listUrl, request.after);
    if (!read) throw new ForeignCursorError(source, pages.route, request.after);
    at = read;
  }
  const records: CanonicalRecord[] = [];
  let totalCount: number | null = null;
  let remaining = Math.max(1, request.first);
  let calls = Math.ceil(remaining / maxPageSize);
  let next: { url: URL; skip: number } | null = null;
  while (remaining > 0 && calls > 0) {
    calls -= 1;
    // A Link header's URL (Shopify page_info) takes a new limit; a body's next URL may be a page
    // number (Zendesk next_page), so its page size stays the first call's.
    const limit = paging.type === 'link' ? Math.min(remaining + (at?.skip ?? 0), maxPageSize) : maxPageSize;
    let response: JsonResponse;
    if (at) {
      const url = new URL(at.url);
      if (paging.type === 'link') url.searchParams.set(paging.limitParam, String(limit));
      response = await pages.fetchUrl(url, limit);
    } else {
      response = await pages.fetchPage(paging.limitParam ? { [paging.limitParam]: String(limit) } : {}, limit);
    }
    const items = pages.rawRecords(response.body);
    if (paging.type === 'nextUrl' && paging.totalPath) {
      const total = readPath(response.body, paging.totalPath);
      totalCount = typeof total === 'number' ? total : null;
    }
    const skip = at?.skip ?? 0;
    const taken = items.slice(skip, skip + remaining);
    for (const item of taken) {
      const record = pages.mapRecord(item);
      if (record) records.push(record);
    }
    remaining -= taken.length;
    const link = nextLink(paging, response);
    const linked = link === null ? null : onList(pages.listUrl, link);
    if (linked === undefined) {
      throw new SourceError(CODES.SOURCE_BAD_RESPONSE, source, pages.route, `Source ${source} sent a next-page URL off its origin or outside ${pages.route}; it was not followed (check the source's base URL)`);
    }
    if (skip + taken.length < items.length) {
      // The client's page ends inside this source page: the next one starts on it again.
      next = at ? { url: at.url, skip: skip + taken.length } : { url: firstPageUrl(pages, paging, limit), skip: skip + taken.length };
      break;
    }
    next = linked ? { url: linked, skip: 0 } : null;
    if (!next || items.length === 0) break;
    at = next;
  }
  if (request.first <= 0) return { records: [], nextCursor: request.after ?? null, hasNextPage: records.length > 0, totalCount };
  return { records, nextCursor: next ? urlCursor(next.url, next.skip) : null, hasNextPage: next !== null, totalCount };
}

/** The list's first page as a URL, to start a client's next page inside it. */
function firstPageUrl(pages: PageSource, paging: UrlPaging, limit: number): URL {
  return pages.firstUrl(paging.limitParam ? { [paging.limitParam]: String(limit) } : {});
}
