/** The endpoints of an entity: lookups by field values (one value or a batch per call) and the list with its paging. */
import { z } from 'zod';
import { fieldName } from './names';

function isRegExp(source: string): boolean {
  try {
    new RegExp(source);
    return true;
  } catch {
    return false;
  }
}

/**
 * An array template repeated once per key of the call: an array whose single element contains
 * `{value}` somewhere inside it, e.g. `[{ "id": "{value}" }]` in a body or `["{value}"]` in a query.
 */
export function isRepeatedTemplate(template: unknown): template is [unknown] {
  return Array.isArray(template) && template.length === 1 && JSON.stringify(template[0]).includes('{value}');
}

/**
 * A templated HTTP call. `{value}` stands for one key value, `{values}` for a batch joined by the
 * batch separator; any other `{name}` is an argument (for example a page cursor).
 */
const endpointBase = {
  /** POST for reads that take their keys in a JSON body (vendor "batch read" and "search" endpoints). */
  method: z.enum(['GET', 'POST']).default('GET'),
  path: z.string().startsWith('/', 'a path starting with /, relative to the source base URL'),
  /**
   * Query parameters by name. A string is filled like the path (`{ "ids": "{values}" }` sends
   * `?ids=1,2` with the batch separator); a parameter that fills to nothing is left out. A list of
   * one template containing `{value}` repeats the parameter once per key of the call:
   * `{ "id": ["{value}"] }` sends `?id=1&id=2`.
   */
  query: z.record(z.string(), z.union([z.string(), z.tuple([z.string().includes('{value}', { message: 'a repeated query parameter is a list of one template containing {value}, e.g. ["{value}"]' })])])).optional(),
  /**
   * POST only: the JSON body. A string that is exactly `{values}` becomes the array of key values
   * (typed by the lookup's `valueType`), `{value}` one value, `{properties}` the array of property
   * names the entity reads; other strings are filled like the path. An array whose single element
   * contains `{value}` anywhere inside it is repeated once per key of the call, that key in place
   * of `{value}`, beside the fixed and templated members around it: the HubSpot batch read
   * `{ "inputs": [{ "id": "{value}" }], "properties": "{properties}" }` sends
   * `{ "inputs": [{ "id": "1" }, { "id": "2" }], "properties": ["email", "firstname"] }`
   * (`[{ "id": 1 }, { "id": 2 }]` with `valueType: "number"`).
   */
  body: z.json().optional(),
  /** Dot path of the records in the response body (envelope), e.g. `records`; absent when the body is the record(s). */
  resultPath: z.string().optional(),
};

/** The most pages a paged lookup may follow per call. */
export const MAX_LOOKUP_PAGES = 100;

/** Records per upstream call at most: what the source allows, and what the guard predicts calls by. */
const maxPageSize = z.number().int().min(1).max(10_000);

/**
 * A cursor the source hands out, sent back as a query parameter. Either the body carries the next
 * cursor (`nextCursorPath`, HubSpot `paging.next.after`), or it only says that more follow
 * (`hasMorePath`, Stripe `has_more`) and the cursor is a field of the page's last raw record
 * (`lastRecordCursorPath`, Stripe `id` sent as `starting_after`). Source cursors reach clients as they are.
 */
export const cursorPaging = z
  .strictObject({
    type: z.literal('cursor'),
    /** Query parameter of the cursor, e.g. `after` (HubSpot) or `starting_after` (Stripe). */
    cursorParam: z.string().min(1),
    /** Query parameter of the page size, e.g. `limit`. */
    limitParam: z.string().min(1),
    maxPageSize,
    defaultPageSize: z.number().int().min(1).optional(),
    /** Dot path of the next cursor in the body, e.g. `paging.next.after`; absent or empty at the end. */
    nextCursorPath: z.string().min(1).optional(),
    /** Dot path of a boolean that is true while more records follow, e.g. `has_more`. */
    hasMorePath: z.string().min(1).optional(),
    /** Instead of `nextCursorPath`: dot path, in the page's last raw record, of the next cursor, e.g. `id`. Needs `hasMorePath`. */
    lastRecordCursorPath: z.string().min(1).optional(),
    /** Dot path of the total number of records, when the source tells. */
    totalPath: z.string().optional(),
  })
  .superRefine((paging, ctx) => {
    if ((paging.nextCursorPath === undefined) === (paging.lastRecordCursorPath === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'cursor paging needs exactly one of nextCursorPath (the body carries the cursor) or lastRecordCursorPath (the last record carries it, e.g. Stripe "id")' });
    }
    if (paging.lastRecordCursorPath !== undefined && paging.hasMorePath === undefined) {
      ctx.addIssue({ code: 'custom', path: ['hasMorePath'], message: 'lastRecordCursorPath needs hasMorePath (e.g. "has_more"): without it the end of the list cannot be told' });
    }
  });

/**
 * Paging by page number. Every upstream page has the same size, so that the cursor handed to
 * clients (an offset) always falls on a known page.
 */
export const pageNumberPaging = z.strictObject({
  type: z.literal('page'),
  /** Query parameter of the page number, e.g. `page`. */
  pageParam: z.string().min(1),
  /** Query parameter of the page size, e.g. `per_page`. */
  sizeParam: z.string().min(1),
  /** Records per upstream page, at most what the source allows. */
  pageSize: z.number().int().min(1).max(10_000),
  /** The number of the first page: 1 for most APIs, 0 for some. */
  firstPage: z.union([z.literal(0), z.literal(1)]).default(1),
  /** Dot path of the total number of records, when the source tells. */
  totalPath: z.string().optional(),
});

export type PageNumberPaging = z.infer<typeof pageNumberPaging>;

/** Paging by offset and limit: `offset` records are skipped, `limit` returned. Clients get opaque cursors standing for offsets. */
export const offsetPaging = z.strictObject({
  type: z.literal('offset'),
  /** Query parameter of the number of records to skip, e.g. `offset`. */
  offsetParam: z.string().min(1),
  /** Query parameter of the page size, e.g. `limit`. */
  limitParam: z.string().min(1),
  maxPageSize,
  /** Dot path of the total number of records, when the source tells. */
  totalPath: z.string().optional(),
});

/**
 * RFC 8288 `Link` header paging (Shopify Admin REST): the first call carries the list's query, its
 * filters and the limit; every later call is the `rel="next"` link as given, with only the limit
 * set. The link must stay on the source's origin and under the list's path.
 */
export const linkHeaderPaging = z.strictObject({
  type: z.literal('link'),
  /** Query parameter of the page size, e.g. `limit`; set on the first call and on every link followed. */
  limitParam: z.string().min(1),
  maxPageSize,
  /** The relation of the next page's link. */
  rel: z.string().min(1).default('next'),
});

/**
 * The next page's URL in the body: absolute or a path from the origin, followed as given. Zendesk
 * `next_page` (null at the end), Zendesk cursor paging `links.next` with `meta.has_more`,
 * Salesforce SOQL `nextRecordsUrl` with `done`. It must stay on the source's origin and under the
 * list's path.
 */
export const nextUrlPaging = z.strictObject({
  type: z.literal('nextUrl'),
  /** Dot path of the next page's URL, e.g. `next_page`, `links.next`, `nextRecordsUrl`; absent, null or empty at the end. */
  nextUrlPath: z.string().min(1),
  /** Dot path of a boolean that is true while more records follow, e.g. `meta.has_more`. */
  hasMorePath: z.string().min(1).optional(),
  /** Dot path of a boolean that is true on the last page, e.g. `done` (Salesforce). */
  donePath: z.string().min(1).optional(),
  /**
   * Query parameter of the page size, e.g. `per_page` or `page[size]`, set to `maxPageSize` on the
   * first call (next URLs carry it on). Absent when the source decides (Salesforce).
   */
  limitParam: z.string().min(1).optional(),
  maxPageSize,
  /** Dot path of the total number of records, when the source tells, e.g. `count` or `totalSize`. */
  totalPath: z.string().optional(),
});

export const listPaging = z.discriminatedUnion('type', [cursorPaging, pageNumberPaging, offsetPaging, linkHeaderPaging, nextUrlPaging]);
export type ListPaging = z.infer<typeof listPaging>;
export type CursorPaging = Extract<ListPaging, { type: 'cursor' }>;
export type OffsetPaging = z.infer<typeof offsetPaging>;
export type LinkHeaderPaging = z.infer<typeof linkHeaderPaging>;
export type NextUrlPaging = z.infer<typeof nextUrlPaging>;

export const lookupDefinition = z.strictObject({
  ...endpointBase,
  /** Absent: the endpoint takes one value per call (the gateway bounds its concurrency instead). */
  batch: z
    .strictObject({
      maxSize: z.number().int().min(1).max(10_000),
      separator: z.string().min(1).default(','),
    })
    .optional(),
  /** true when a value identifies at most one record (an id or a unique email); false for a foreign key. */
  unique: z.boolean(),
  /**
   * A regular expression that every value this endpoint can find matches, e.g. `^[0-9]+$` for
   * numeric ids. Other values find nothing and are never sent: sources reject them with a 400.
   */
  pattern: z.string().refine(isRegExp, 'a valid regular expression, e.g. ^[0-9]+$').optional(),
  /**
   * How key values are written into a JSON body: `number` for ids that are numbers in this source
   * (values that are not numbers are then never sent). Answers are matched back by value either way.
   */
  valueType: z.enum(['string', 'number']).default('string'),
  /**
   * How the records of an answer are matched to the keys sent. `key` (the default): by the value
   * of the lookup's field in each record, in whatever order the source answers. `position`: the
   * answer is an array aligned with the keys sent, its i-th item the record of the i-th key and
   * `null` where there is none (Salesforce sObject Collections,
   * `GET /composite/sobjects/Contact?ids=a,b&fields=Id,Email`).
   */
  matchBy: z.enum(['key', 'position']).optional(),
  /**
   * Errors about single values inside a successful answer (a 207 Multi-Status, or a 200 with an
   * `errors` list): each fails only the values it names, the rest of the batch is served. A key
   * that such an answer neither returns nor names as not found fails with SOURCE_PARTIAL_FAILURE
   * (never a silent null), also when the errors name no key; after a clean 200 it finds nothing.
   */
  itemErrors: z
    .strictObject({
      /** Dot path of the list of errors in the body, e.g. `errors`. */
      path: z.string().min(1),
      /**
       * In each error, the dot path of the value (or list of values) it concerns, e.g. `id` or
       * `context.ids` (HubSpot). Absent, with no `indexPath`: errors name no key.
       */
      keyPath: z.string().min(1).optional(),
      /** In each error, the dot path of the position (from 0) of the key it concerns among the keys of the call, e.g. `index`. */
      indexPath: z.string().min(1).optional(),
      /** In each error, the dot path of its code, e.g. `code`. */
      codePath: z.string().min(1).optional(),
      /** In each error, the dot path of its message. */
      messagePath: z.string().min(1).optional(),
      /** Codes that mean "no such record", e.g. HubSpot's `OBJECT_NOT_FOUND` at `category`: the keys named find nothing, and that is not an error. */
      notFoundCodes: z.array(z.string()).optional(),
    })
    .optional(),
  /**
   * Error answers that mean "no record" besides a 404 (which always does): Stripe answers an
   * unknown customer of `GET /v1/charges?customer=` with 400 `{"error":{"code":"resource_missing"}}`,
   * declared `{ "status": [400, 404], "codePath": "error.code", "codes": ["resource_missing"] }`.
   * An answer with one of `status` (and, with `codePath`, one of `codes` at that path of its body)
   * finds nothing for its keys instead of failing them. Only for lookups of one value per call.
   */
  notFound: z
    .strictObject({
      /** HTTP statuses (400-499) that can mean no record. */
      status: z.array(z.number().int().min(400).max(499)).min(1),
      /** Dot path of the error code in the body, e.g. `error.code`; absent: the status alone decides. */
      codePath: z.string().min(1).optional(),
      /** With `codePath`: the codes that mean no record, e.g. `resource_missing`. */
      codes: z.array(z.string().min(1)).min(1).optional(),
    })
    .refine((notFound) => (notFound.codePath === undefined) === (notFound.codes === undefined), 'codePath and codes go together: name where the code is and which codes mean no record, e.g. { "codePath": "error.code", "codes": ["resource_missing"] }')
    .optional(),
  /**
   * For a lookup by a non-unique key (a customer's orders): how the answer pages, in the list
   * paging kinds (Shopify `{ "type": "link", "limitParam": "limit", "maxPageSize": 250 }`). The
   * pages are followed up to `maxPages`; a key with more fails with SOURCE_PAGE_LIMIT, never a
   * short list. Without it, an answer carrying a `Link` rel="next" fails its keys the same way.
   */
  paging: listPaging.optional(),
  /** With `paging`: the most pages read per call (default 10); the guard predicts this many calls per key. */
  maxPages: z.number().int().min(1).max(MAX_LOOKUP_PAGES).optional(),
}).superRefine((lookup, ctx) => {
  if (lookup.maxPages !== undefined && !lookup.paging) ctx.addIssue({ code: 'custom', path: ['maxPages'], message: 'maxPages bounds a paged lookup: declare its paging too, e.g. { "type": "link", "limitParam": "limit", "maxPageSize": 250 }' });
  if (lookup.notFound && lookup.batch) ctx.addIssue({ code: 'custom', path: ['notFound'], message: 'notFound reads an error answer as no record for the one value sent; a batch lookup\'s answer concerns many keys: remove batch or declare itemErrors instead' });
  if (lookup.paging && lookup.matchBy === 'position') ctx.addIssue({ code: 'custom', path: ['paging'], message: 'a paged lookup is matched by key: an answer aligned with the keys sent (matchBy: position) has no pages; remove one of them' });
});
export type LookupDefinition = z.infer<typeof lookupDefinition>;

export const listDefinition = z.strictObject({
  ...endpointBase,
  paging: listPaging,
  /** Canonical argument name -> the query parameter it becomes and the canonical field it filters. */
  filters: z
    .record(fieldName, z.strictObject({ param: z.string().min(1), field: fieldName }))
    .optional(),
});
export type ListDefinition = z.infer<typeof listDefinition>;
