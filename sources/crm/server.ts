/**
 * The CRM sandbox: a Salesforce-flavoured REST API over `crmDataset(seed)`.
 *
 * Callers authenticate with an API key in the `x-api-key` header.
 *
 * Quirks a client must handle, as with the real thing: errors are a JSON array of
 * `{ errorCode, message }`; the batch endpoint returns only the records it found, sorted by Id
 * rather than in the order asked; paging is by an opaque cursor.
 */
import { normalizeEmail } from '../sandbox/email';
import { route, type JsonReply, type Route } from '../sandbox/router';
import { SANDBOX_CREDENTIALS } from '../sandbox/auth';
import { isObject, listParam } from '../sandbox/params';
import { notify, type WebhookTarget } from '../sandbox/webhook';
import { startSandbox, type SandboxHandle, type SandboxOptions, type ShellErrorCode, type SystemRecords } from '../sandbox/server';
import { CRM_CONTACT_ID, CRM_SEGMENTS, crmDataset, type CrmContact, type CrmDataset, type CrmSegment } from './data';
import openapi from './openapi.json';

export const CRM_BASE_PATH = '/services/data/v58.0';

/** Most ids (composite) or emails (search) one request may ask for. */
export const CRM_BATCH_LIMIT = 100;
export const CRM_QUERY_DEFAULT_LIMIT = 50;
export const CRM_QUERY_MAX_LIMIT = 200;

export interface CrmSandboxOptions extends SandboxOptions {
  /** Dataset seed; default 42. */
  seed?: number;
  /** Where `PATCH .../sobjects/Contact/{id}` notifies its change (signed); none by default. */
  webhook?: WebhookTarget;
}

const NOT_FOUND_MESSAGE = 'The requested resource does not exist';

const SHELL_ERROR_CODES: Record<ShellErrorCode, string> = {
  NOT_FOUND: 'NOT_FOUND',
  METHOD_NOT_ALLOWED: 'METHOD_NOT_ALLOWED',
  BAD_REQUEST: 'MALFORMED_QUERY',
  PAYLOAD_TOO_LARGE: 'REQUEST_LIMIT_EXCEEDED',
  INTERNAL: 'UNKNOWN_EXCEPTION',
  UNAUTHORIZED: 'INVALID_SESSION_ID',
  RATE_LIMITED: 'REQUEST_LIMIT_EXCEEDED',
  UNAVAILABLE: 'SERVER_UNAVAILABLE',
};

/** Contacts sit in `records` (batch, search, query) or are the whole body (one by id). */
const CRM_RECORDS: SystemRecords = {
  contract: { key: 'Id', date: 'CreatedDate', enum: 'Segment__c' },
  map: (body, f) => {
    if (!isObject(body)) return body;
    if (Array.isArray(body.records)) return { ...body, records: body.records.map(f) };
    return 'Id' in body ? f(body) : body;
  },
};

export function startCrm(options: CrmSandboxOptions = {}): Promise<SandboxHandle> {
  const { seed, webhook, ...serverOptions } = options;
  const data = crmDataset(seed);
  return startSandbox(
    {
      name: 'crm',
      routes: crmRoutes(data, webhook),
      openapi,
      // Salesforce answers an unknown URL with its usual NOT_FOUND message, whatever the path.
      errorBody: (code, message) => errors(SHELL_ERROR_CODES[code], code === 'NOT_FOUND' ? NOT_FOUND_MESSAGE : message),
      records: CRM_RECORDS,
      defaultAuth: { kind: 'apiKey', header: SANDBOX_CREDENTIALS.crm.header, key: SANDBOX_CREDENTIALS.crm.apiKey },
    },
    serverOptions,
  );
}

/** Fields PATCH may not change: the id, and those the sandbox indexes (email, segment). */
const FIXED_FIELDS = new Set(['Id', 'Email', 'Segment__c']);

function crmRoutes(data: CrmDataset, webhook?: WebhookTarget): Route[] {
  const bySegment = new Map<CrmSegment, CrmContact[]>(CRM_SEGMENTS.map((s) => [s, []]));
  for (const contact of data.contacts) bySegment.get(contact.Segment__c)?.push(contact);
  // Contacts changed through PATCH, kept beside the (shared, immutable) dataset.
  const patched = new Map<string, CrmContact>();
  const current = (contact: CrmContact): CrmContact => patched.get(contact.Id) ?? contact;

  return [
    route(`PATCH ${CRM_BASE_PATH}/sobjects/Contact/{id}`, ({ params, body }) => {
      const contact = data.byId.get(params.id);
      if (!contact) return fail(404, 'NOT_FOUND', NOT_FOUND_MESSAGE);
      let changes: unknown;
      try {
        changes = JSON.parse(body);
      } catch {
        return fail(400, 'JSON_PARSER_ERROR', 'the body must be a JSON object');
      }
      if (!isObject(changes)) return fail(400, 'JSON_PARSER_ERROR', 'the body must be a JSON object');
      const fixed = Object.keys(changes).filter((field) => FIXED_FIELDS.has(field));
      if (fixed.length > 0) return fail(400, 'INVALID_FIELD', `cannot change ${fixed.join(', ')} in this sandbox`);
      patched.set(contact.Id, { ...current(contact), ...changes } as CrmContact);
      void notify(webhook, { type: 'customer.updated', entity: 'Customer', field: 'id', key: contact.Id });
      return { status: 204, body: undefined };
    }),

    route(`GET ${CRM_BASE_PATH}/sobjects/Contact/{id}`, ({ params }) => {
      const found = data.byId.get(params.id);
      const contact = found && current(found);
      return contact ? ok(contact) : fail(404, 'NOT_FOUND', NOT_FOUND_MESSAGE);
    }),

    route(`GET ${CRM_BASE_PATH}/composite/sobjects/Contact`, ({ query }) => {
      const ids = listParam(query, 'ids');
      if (ids.length === 0) return fail(400, 'MISSING_ARGUMENT', 'ids: a comma-separated list of Contact ids is required');
      if (ids.length > CRM_BATCH_LIMIT) {
        return fail(400, 'BATCH_TOO_LARGE', `ids: at most ${CRM_BATCH_LIMIT} ids per request, got ${ids.length}`);
      }
      const found = new Set<CrmContact>();
      for (const id of ids) {
        const contact = data.byId.get(id);
        if (contact) found.add(contact);
      }
      return ok({ records: [...found].sort(byId).map(current) });
    }),

    route(`GET ${CRM_BASE_PATH}/search/Contact`, ({ query }) => {
      const emails = listParam(query, 'emails');
      if (emails.length === 0) return fail(400, 'MISSING_ARGUMENT', 'emails: a comma-separated list of emails is required');
      if (emails.length > CRM_BATCH_LIMIT) {
        return fail(400, 'BATCH_TOO_LARGE', `emails: at most ${CRM_BATCH_LIMIT} emails per request, got ${emails.length}`);
      }
      const found = new Set<CrmContact>();
      for (const email of emails) {
        const contact = data.byEmail.get(normalizeEmail(email));
        if (contact) found.add(contact);
      }
      // Not in the order asked: callers must map records back by email.
      return ok({ records: [...found].sort(byId).map(current) });
    }),

    route(`GET ${CRM_BASE_PATH}/query/Contact`, ({ query }) => {
      const limit = parseLimit(query.get('limit'));
      if (limit === undefined) {
        return fail(400, 'MALFORMED_QUERY', `limit must be an integer from 1 to ${CRM_QUERY_MAX_LIMIT}, got '${query.get('limit') ?? ''}'`);
      }
      const segment = query.get('segment');
      // Like a SOQL filter on a picklist: a value no record has matches nothing, it is not an error.
      const matching = segment === null ? data.contacts : (bySegment.get(segment as CrmSegment) ?? []);
      const cursor = query.get('cursor');
      let start = 0;
      if (cursor !== null) {
        const afterId = decodeCursor(cursor);
        if (afterId === undefined) return fail(400, 'INVALID_CURSOR', 'cursor is not one this API issued; start again without it');
        start = firstIndexAfter(matching, afterId);
      }
      const records = matching.slice(start, start + limit);
      const done = start + records.length >= matching.length;
      const last = records[records.length - 1];
      return ok({
        totalSize: matching.length,
        done,
        nextRecordsCursor: done || last === undefined ? null : encodeCursor(last.Id),
        records: records.map(current),
      });
    }),
  ];
}

function ok(body: unknown): JsonReply {
  return { status: 200, body };
}

function errors(errorCode: string, message: string): Array<{ errorCode: string; message: string }> {
  return [{ errorCode, message }];
}

function fail(status: number, errorCode: string, message: string): JsonReply {
  return { status, body: errors(errorCode, message) };
}

function byId(a: CrmContact, b: CrmContact): number {
  return a.Id < b.Id ? -1 : a.Id > b.Id ? 1 : 0;
}

function parseLimit(raw: string | null): number | undefined {
  if (raw === null) return CRM_QUERY_DEFAULT_LIMIT;
  if (!/^\d{1,4}$/.test(raw)) return undefined;
  const limit = Number(raw);
  return limit >= 1 && limit <= CRM_QUERY_MAX_LIMIT ? limit : undefined;
}

/**
 * The cursor is base64url of the last Id served. Clients must treat it as opaque; the server
 * rejects anything it could not have issued rather than guessing.
 */
function encodeCursor(lastId: string): string {
  return Buffer.from(lastId, 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): string | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) return undefined;
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  return CRM_CONTACT_ID.test(id) && encodeCursor(id) === cursor ? id : undefined;
}

/** Index of the first contact whose Id sorts after `id` (binary search over the Id order). */
function firstIndexAfter(contacts: readonly CrmContact[], id: string): number {
  let lo = 0;
  let hi = contacts.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((contacts[mid] as CrmContact).Id <= id) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
