/**
 * Salesforce REST API (v59.0) as Salesforce documents it (developer.salesforce.com/docs/atlas.en-us.api_rest:
 * "Execute a SOQL Query", "Retrieve Multiple Records with Fewer Round-Trips" (sObject Collections),
 * "Status Codes and Error Responses", "Limits"):
 *
 * - `GET /services/data/v59.0/query?q=SELECT+Id,Email+FROM+Contact`: `{ totalSize, done, records,
 *   nextRecordsUrl }`, each record with `attributes: { type, url }`; batches of 2,000 records, the
 *   rest behind `nextRecordsUrl` (`/services/data/v59.0/query/01gXX...-2000`) until `done: true`.
 * - `GET /services/data/v59.0/composite/sobjects/Contact?ids=a,b&fields=Id,Email`: an array aligned
 *   with the ids, `null` where a record is not found; at most 200 ids.
 * - errors as a JSON array `[{ message, errorCode }]` (401 INVALID_SESSION_ID, 400 MALFORMED_QUERY),
 *   and over the org's API request limit 403 REQUEST_LIMIT_EXCEEDED (Salesforce answers no 429).
 * - `Sforce-Limit-Info: api-usage=n/15000` on every answer; an OAuth access token as `Authorization: Bearer`.
 */
import { csv, seeded, startVendorFixture, type VendorFixture, type VendorReply } from './fixture';

export const SALESFORCE_TOKEN = '00DXX0000008fixture!AQ4AQFixtureAccessToken';
export const SALESFORCE_QUERY_BATCH = 2_000;
export const SALESFORCE_COLLECTION_MAX = 200;
const API = '/services/data/v59.0';
const FIELDS = ['Id', 'FirstName', 'LastName', 'Email', 'Phone', 'AccountId', 'CreatedDate'] as const;

export type SalesforceContact = Record<(typeof FIELDS)[number], string | null>;

export interface SalesforceFixture extends VendorFixture {
  readonly contacts: readonly SalesforceContact[];
  readonly byId: ReadonlyMap<string, SalesforceContact>;
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** An 18-character record id with the Contact key prefix 003. */
function recordId(n: number): string {
  let tail = '';
  for (let i = 0, rest = n; i < 9; i++, rest = Math.floor(rest / ALPHABET.length)) tail = ALPHABET[rest % ALPHABET.length]! + tail;
  return `0035e0000${tail.slice(-6)}AAU`;
}

export function salesforceContacts(count: number, seed = 11): SalesforceContact[] {
  const random = seeded(seed);
  return Array.from({ length: count }, (_, i) => {
    const first = ['Maria', 'Jon', 'Priya', 'Chen', 'Amara', 'Lukas'][Math.floor(random() * 6)]!;
    const last = ['Garcia', 'Smith', 'Patel', 'Wei', 'Okafor', 'Becker'][Math.floor(random() * 6)]!;
    const created = new Date(Date.UTC(2022, 5, 1) + Math.floor(random() * 900) * 86_400_000);
    return {
      Id: recordId(1_000 + i * 37),
      FirstName: first,
      LastName: last,
      Email: i % 9 === 0 ? null : `${first}.${last}${i}@example.org`.toLowerCase(),
      Phone: null,
      AccountId: `0015e00000Acc${String(i % 50).padStart(2, '0')}AAA`,
      // Salesforce writes DateTime values with a +0000 offset and milliseconds.
      CreatedDate: created.toISOString().replace('Z', '+0000'),
    };
  });
}

const errors = (status: number, errorCode: string, message: string): VendorReply => ({ status, body: [{ message, errorCode }] });

function record(contact: SalesforceContact, fields: readonly string[]): Record<string, unknown> {
  return {
    attributes: { type: 'Contact', url: `${API}/sobjects/Contact/${contact.Id}` },
    ...Object.fromEntries(fields.map((field) => [field, contact[field as keyof SalesforceContact] ?? null])),
  };
}

/** The fields of `SELECT a, b FROM Contact` (the only form this fixture understands), or a MALFORMED_QUERY. */
function parseSoql(q: string | null): string[] | VendorReply {
  const match = /^SELECT\s+(.+?)\s+FROM\s+Contact(?:\s+ORDER\s+BY\s+Id)?$/i.exec((q ?? '').trim());
  if (!match) return errors(400, 'MALFORMED_QUERY', `unexpected token: '${q ?? ''}'`);
  const fields = match[1]!.split(',').map((field) => field.trim());
  const unknown = fields.find((field) => !(FIELDS as readonly string[]).includes(field));
  if (unknown) return errors(400, 'INVALID_FIELD', `No such column '${unknown}' on entity 'Contact'.`);
  return fields;
}

export async function startSalesforce(contacts: readonly SalesforceContact[] = salesforceContacts(4_500)): Promise<SalesforceFixture> {
  const byId = new Map(contacts.map((contact) => [contact.Id!, contact]));
  // A query's cursor: the fields it selected, by locator id.
  const locators = new Map<string, string[]>();
  const page = (fields: string[], locator: string, offset: number) => {
    const batch = contacts.slice(offset, offset + SALESFORCE_QUERY_BATCH).map((contact) => record(contact, fields));
    const done = offset + SALESFORCE_QUERY_BATCH >= contacts.length;
    return {
      status: 200,
      body: { totalSize: contacts.length, done, ...(done ? {} : { nextRecordsUrl: `${API}/query/${locator}-${offset + SALESFORCE_QUERY_BATCH}` }), records: batch },
    };
  };
  let calls = 0;
  const fixture = await startVendorFixture({
    authorize: (headers) => (headers.authorization === `Bearer ${SALESFORCE_TOKEN}` ? undefined : errors(401, 'INVALID_SESSION_ID', 'Session expired or invalid')),
    throttled: () => errors(403, 'REQUEST_LIMIT_EXCEEDED', 'TotalRequests Limit exceeded.'),
    notFound: () => errors(404, 'NOT_FOUND', 'The requested resource does not exist'),
    everyAnswer: () => ({ 'sforce-limit-info': `api-usage=${(calls += 1)}/15000` }),
    routes: [
      {
        template: `GET ${API}/query`,
        handle(request) {
          const fields = parseSoql(request.query.get('q'));
          if (!Array.isArray(fields)) return fields;
          const locator = `01gXX0000${String(locators.size).padStart(6, '0')}QAA`;
          locators.set(locator, fields);
          return page(fields, locator, 0);
        },
      },
      {
        template: `GET ${API}/query/{cursor}`,
        handle(_request, params) {
          const match = /^(.+)-([0-9]+)$/.exec(params.cursor!);
          const fields = match ? locators.get(match[1]!) : undefined;
          if (!match || !fields) return errors(400, 'INVALID_QUERY_LOCATOR', 'invalid query locator');
          return page(fields, match[1]!, Number(match[2]));
        },
      },
      {
        template: `GET ${API}/composite/sobjects/Contact`,
        handle(request) {
          const ids = csv(request.query.get('ids'));
          const fields = csv(request.query.get('fields'));
          if (ids.length === 0) return errors(400, 'MISSING_ARGUMENT', 'ids parameter is required');
          if (ids.length > SALESFORCE_COLLECTION_MAX) return errors(400, 'INVALID_FIELD', `You can retrieve up to ${SALESFORCE_COLLECTION_MAX} records at a time`);
          if (fields.length === 0) return errors(400, 'MISSING_ARGUMENT', 'fields parameter is required');
          const unknown = fields.find((field) => !(FIELDS as readonly string[]).includes(field));
          if (unknown) return errors(400, 'INVALID_FIELD', `No such column '${unknown}' on entity 'Contact'.`);
          return { status: 200, body: ids.map((id) => (byId.has(id) ? record(byId.get(id)!, fields) : null)) };
        },
      },
    ],
  });
  return Object.assign(fixture, { contacts, byId });
}
