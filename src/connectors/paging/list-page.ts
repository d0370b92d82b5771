import type { CanonicalRecord } from '../record-mapper';
import type { JsonResponse } from '../http-client';

export interface ListPage {
  records: CanonicalRecord[];
  /** Where the next page starts (pass it as `after`); null to start from the beginning. */
  nextCursor: string | null;
  hasNextPage: boolean;
  totalCount: number | null;
}

export interface ListRequest {
  first: number;
  after?: string | null;
  filters?: Record<string, string>;
}

/**
 * What a paging strategy needs of the connector: one upstream page at a time, and the records in
 * it. The list's path, filters, body and record mapping stay with the connector.
 */
export interface PageSource {
  /** The list's route template, for errors. */
  route: string;
  /** One upstream page, with the strategy's paging parameters added to the list's own query. */
  fetchPage(paging: Record<string, string>, pageSize: number): Promise<JsonResponse>;
  /** One upstream page at a URL the source handed out (checked by the caller to be on its origin), as given. */
  fetchUrl(url: URL, pageSize: number): Promise<JsonResponse>;
  /** The list's own URL (base URL and path) that next-page URLs must stay on the origin of, and under. */
  listUrl: URL;
  /** The URL `fetchPage` calls with these paging parameters. */
  firstUrl(paging: Record<string, string>): URL;
  /** The raw records of a page's body (SOURCE_BAD_RESPONSE when there are none where they should be). */
  rawRecords(body: unknown): unknown[];
  /** One raw record in canonical terms; undefined for one that does not fit the mapping (it has been reported). */
  mapRecord(item: unknown): CanonicalRecord | undefined;
}

