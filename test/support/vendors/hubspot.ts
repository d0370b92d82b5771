/**
 * HubSpot CRM v3 contacts as HubSpot documents them
 * (developers.hubspot.com/docs/api/crm/contacts, .../crm/understanding-the-crm, "Usage details"):
 *
 * - `GET /crm/v3/objects/contacts?limit=&after=&properties=a,b`: `{ results, paging: { next: { after, link } } }`,
 *   `paging` absent on the last page; `limit` at most 100 (default 10).
 * - `POST /crm/v3/objects/contacts/batch/read` with `{ inputs: [{ id }], properties: [...] }`: 200
 *   `{ status: "COMPLETE", results, startedAt, completedAt }`, or 207 with also `numErrors` and
 *   `errors: [{ status: "error", category: "OBJECT_NOT_FOUND", message, context: { ids: [...] } }]`
 *   naming every id not found; more than 100 inputs is a 400 VALIDATION_ERROR.
 * - `GET /crm/v3/objects/contacts/{contactId}?properties=a,b`: one record, 404 OBJECT_NOT_FOUND when there is none.
 * - a record is `{ id, properties: {...}, createdAt, updatedAt, archived }`, with only the properties
 *   asked for (and `hs_object_id`, `createdate`, `lastmodifieddate`, which HubSpot always adds); without
 *   `properties` the default set (`email`, `firstname`, `lastname`).
 * - a private-app token as `Authorization: Bearer`; 401 `{ status: "error", category: "INVALID_AUTHENTICATION" }`.
 * - rate limits: `X-HubSpot-RateLimit-*` headers on every answer; over the limit 429
 *   `{ status: "error", category: "RATE_LIMITS", policyName: "SECONDLY" }` without `Retry-After`.
 */
import { bearer, intParam, seeded, startVendorFixture, type VendorFixture, type VendorReply } from './fixture';

export const HUBSPOT_TOKEN = 'pat-na1-fixture-private-app-token';
export const HUBSPOT_BATCH_MAX = 100;
export const HUBSPOT_PAGE_MAX = 100;
const DEFAULT_PROPERTIES = ['email', 'firstname', 'lastname'];
const ALWAYS = ['hs_object_id', 'createdate', 'lastmodifieddate'];

export interface HubSpotContact {
  id: string;
  properties: Record<string, string | null>;
  createdAt: string;
  updatedAt: string;
  archived: false;
}

export interface HubSpotFixture extends VendorFixture {
  readonly contacts: readonly HubSpotContact[];
  readonly byId: ReadonlyMap<string, HubSpotContact>;
  /** Ids the batch read refuses with category `VALIDATION_ERROR` (as HubSpot does for an id it cannot read), in their own error. */
  readonly refused: Set<string>;
}

const FIRST = ['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Donald', 'Frances', 'Ken', 'Radia', 'Leslie'];
const LAST = ['Lovelace', 'Hopper', 'Turing', 'Dijkstra', 'Liskov', 'Knuth', 'Allen', 'Thompson', 'Perlman', 'Lamport'];
const STAGES = ['subscriber', 'lead', 'marketingqualifiedlead', 'opportunity', 'customer'];

/** `count` contacts with ids 151, 152, ... (HubSpot ids are numeric strings), in id order. */
export function hubspotContacts(count: number, seed = 7): HubSpotContact[] {
  const random = seeded(seed);
  return Array.from({ length: count }, (_, i) => {
    const first = FIRST[Math.floor(random() * FIRST.length)]!;
    const last = LAST[Math.floor(random() * LAST.length)]!;
    const created = new Date(Date.UTC(2023, 0, 1) + Math.floor(random() * 600) * 86_400_000 + i * 1_000).toISOString();
    const updated = new Date(Date.parse(created) + 86_400_000).toISOString();
    const id = String(151 + i);
    return {
      id,
      properties: {
        email: `${first}.${last}.${id}@example.com`.toLowerCase(),
        firstname: first,
        lastname: last,
        lifecyclestage: STAGES[i % STAGES.length]!,
        phone: i % 4 === 0 ? null : `+1 555 01${String(i % 100).padStart(2, '0')}`,
        hs_object_id: id,
        createdate: created,
        lastmodifieddate: updated,
      },
      createdAt: created,
      updatedAt: updated,
      archived: false,
    };
  });
}

function shaped(contact: HubSpotContact, asked: readonly string[] | undefined): HubSpotContact {
  const names = [...new Set([...(asked && asked.length > 0 ? asked : DEFAULT_PROPERTIES), ...ALWAYS])];
  // HubSpot answers a property asked for that a contact has no value of as null; an unknown one is left out.
  const properties = Object.fromEntries(names.filter((name) => name in contact.properties).map((name) => [name, contact.properties[name] ?? null]));
  return { ...contact, properties };
}

const error = (status: number, category: string, message: string, extra: Record<string, unknown> = {}): VendorReply => ({
  status,
  body: { status: 'error', message, correlationId: 'c0ffee00-0000-4000-8000-000000000000', category, ...extra },
});

export async function startHubSpot(contacts: readonly HubSpotContact[] = hubspotContacts(1_200)): Promise<HubSpotFixture> {
  const byId = new Map(contacts.map((contact) => [contact.id, contact]));
  const refused = new Set<string>();
  const fixture = await startVendorFixture({
    authorize: bearer(HUBSPOT_TOKEN, () => error(401, 'INVALID_AUTHENTICATION', 'Authentication credentials not found. This API supports OAuth 2.0 authentication.')),
    throttled: () => error(429, 'RATE_LIMITS', 'You have reached your secondly limit.', { errorType: 'RATE_LIMIT', policyName: 'SECONDLY', groupName: 'publicapi' }),
    notFound: () => error(404, 'OBJECT_NOT_FOUND', 'resource not found'),
    everyAnswer: (call) => ({
      'x-hubspot-ratelimit-daily': '500000',
      'x-hubspot-ratelimit-daily-remaining': String(500_000 - call),
      'x-hubspot-ratelimit-interval-milliseconds': '10000',
      'x-hubspot-ratelimit-max': '190',
      'x-hubspot-ratelimit-remaining': String(Math.max(0, 190 - (call % 190))),
    }),
    routes: [
      {
        template: 'GET /crm/v3/objects/contacts',
        handle(request) {
          const limit = intParam(request.query.get('limit'), 10, 1, HUBSPOT_PAGE_MAX);
          if (limit === undefined) return error(400, 'VALIDATION_ERROR', `limit must be between 1 and ${HUBSPOT_PAGE_MAX}`);
          const after = request.query.get('after');
          // `after` is opaque to clients; here it is the id of the next contact to return.
          const start = after === null ? 0 : contacts.findIndex((contact) => contact.id === after);
          if (start < 0) return error(400, 'VALIDATION_ERROR', `invalid after: ${after}`);
          const properties = request.query.get('properties')?.split(',').filter(Boolean);
          const page = contacts.slice(start, start + limit).map((contact) => shaped(contact, properties));
          const next = contacts[start + limit];
          return {
            status: 200,
            body: {
              results: page,
              ...(next ? { paging: { next: { after: next.id, link: `${request.origin}/crm/v3/objects/contacts?after=${next.id}` } } } : {}),
            },
          };
        },
      },
      {
        template: 'GET /crm/v3/objects/contacts/{contactId}',
        handle(request, params) {
          const contact = byId.get(params.contactId!);
          if (!contact) return error(404, 'OBJECT_NOT_FOUND', 'Object not found.  objectId are usually numeric.');
          return { status: 200, body: shaped(contact, request.query.get('properties')?.split(',').filter(Boolean)) };
        },
      },
      {
        template: 'POST /crm/v3/objects/contacts/batch/read',
        handle(request) {
          let body: { inputs?: unknown; properties?: unknown };
          try {
            body = JSON.parse(request.body) as typeof body;
          } catch {
            return error(400, 'VALIDATION_ERROR', 'Invalid input JSON on line 1');
          }
          const inputs = body.inputs;
          if (!Array.isArray(inputs) || !inputs.every((input) => typeof input === 'object' && input !== null && typeof (input as { id?: unknown }).id === 'string')) {
            return error(400, 'VALIDATION_ERROR', 'Invalid input JSON: inputs must be a list of objects with a string id');
          }
          if (inputs.length > HUBSPOT_BATCH_MAX) return error(400, 'VALIDATION_ERROR', `Batch input limit exceeded: ${inputs.length} inputs, at most ${HUBSPOT_BATCH_MAX}`);
          const properties = Array.isArray(body.properties) ? body.properties.filter((p): p is string => typeof p === 'string') : undefined;
          const ids = (inputs as Array<{ id: string }>).map((input) => input.id);
          const found = [...new Set(ids)].flatMap((id) => {
            const contact = refused.has(id) ? undefined : byId.get(id);
            return contact ? [shaped(contact, properties)] : [];
          });
          const missing = [...new Set(ids.filter((id) => !byId.has(id)))];
          const unreadable = [...new Set(ids.filter((id) => refused.has(id) && byId.has(id)))];
          const stamp = { startedAt: '2026-01-01T00:00:00.000Z', completedAt: '2026-01-01T00:00:00.042Z' };
          if (unreadable.length > 0) {
            const errors = [
              ...(missing.length > 0 ? [{ status: 'error', category: 'OBJECT_NOT_FOUND', message: 'Could not get some CONTACT objects, they may be deleted or not exist.', context: { ids: missing } }] : []),
              { status: 'error', category: 'VALIDATION_ERROR', message: 'Could not read some CONTACT objects.', context: { ids: unreadable } },
            ];
            return { status: 207, body: { status: 'COMPLETE', results: found, numErrors: errors.length, errors, ...stamp } };
          }
          if (missing.length === 0) return { status: 200, body: { status: 'COMPLETE', results: found, ...stamp } };
          return {
            status: 207,
            body: {
              status: 'COMPLETE',
              results: found,
              numErrors: 1,
              errors: [
                {
                  status: 'error',
                  category: 'OBJECT_NOT_FOUND',
                  message: 'Could not get some CONTACT objects, they may be deleted or not exist. Check that ids are valid.',
                  context: { ids: missing },
                },
              ],
              ...stamp,
            },
          };
        },
      },
    ],
  });
  return Object.assign(fixture, { contacts, byId, refused });
}
