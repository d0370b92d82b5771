/**
 * Zendesk Support API as Zendesk documents it (developer.zendesk.com/api-reference/ticketing/users/users,
 * .../tickets/tickets, .../introduction/pagination, .../introduction/rate-limits):
 *
 * - `GET /api/v2/users/show_many.json?ids=1,2` and `GET /api/v2/tickets/show_many.json?ids=1,2`:
 *   `{ users }` / `{ tickets }`, ids not found left out, at most 100 ids.
 * - `GET /api/v2/users/{id}/tickets/requested.json`: a user's requested tickets, `{ tickets,
 *   next_page, previous_page, count }` (offset paging, 100 per page), or with `page[size]` cursor paging;
 *   404 `{ error: "RecordNotFound" }` for an unknown user.
 * - cursor paging `page[size]` (at most 100) / `page[after]`: `{ meta: { has_more, after_cursor,
 *   before_cursor }, links: { next, prev } }`; `links.next` and `after_cursor` are there on the last
 *   page too: `meta.has_more` alone says whether there is one more.
 * - over the limit 429 with `Retry-After` in seconds; an OAuth token as `Authorization: Bearer`.
 */
import { bearer, csv, intParam, seeded, startVendorFixture, type VendorFixture, type VendorReply } from './fixture';

export const ZENDESK_TOKEN = 'zendesk-fixture-oauth-access-token';
export const ZENDESK_SHOW_MANY_MAX = 100;
export const ZENDESK_PAGE_MAX = 100;
export const ZENDESK_RETRY_AFTER_SECONDS = 3;

export interface ZendeskUser {
  id: number;
  name: string;
  email: string;
  role: 'end-user';
  created_at: string;
}

export interface ZendeskTicket {
  id: number;
  subject: string;
  status: 'new' | 'open' | 'pending' | 'hold' | 'solved' | 'closed';
  priority: 'low' | 'normal' | 'high' | 'urgent' | null;
  requester_id: number;
  created_at: string;
}

export interface ZendeskFixture extends VendorFixture {
  readonly users: readonly ZendeskUser[];
  readonly tickets: readonly ZendeskTicket[];
  requestedBy(userId: string): ZendeskTicket[];
}

const STATUSES = ['new', 'open', 'pending', 'hold', 'solved', 'closed'] as const;
const PRIORITIES = ['low', 'normal', 'high', 'urgent', null] as const;
const SUBJECTS = ['Where is my order?', 'Refund request', 'Wrong size', 'Invoice copy', 'Damaged item'];

export function zendeskUsers(ids: readonly string[]): ZendeskUser[] {
  return ids.map((id, i) => ({ id: Number(id), name: `Requester ${id}`, email: `requester-${id}@example.com`, role: 'end-user', created_at: new Date(Date.UTC(2023, 3, 1) + i * 3_600_000).toISOString().replace('.000Z', 'Z') }));
}

/** 0 to `maxPerUser` tickets requested by each user, ids ascending. */
export function zendeskTickets(users: readonly ZendeskUser[], maxPerUser = 3, seed = 31): ZendeskTicket[] {
  const random = seeded(seed);
  const tickets: ZendeskTicket[] = [];
  for (const user of users) {
    const count = Math.floor(random() * (maxPerUser + 1));
    for (let n = 0; n < count; n++) {
      tickets.push({
        id: 35_000 + tickets.length,
        subject: SUBJECTS[Math.floor(random() * SUBJECTS.length)]!,
        status: STATUSES[Math.floor(random() * STATUSES.length)]!,
        priority: PRIORITIES[Math.floor(random() * PRIORITIES.length)]!,
        requester_id: user.id,
        created_at: new Date(Date.UTC(2024, 1, 1) + Math.floor(random() * 200) * 86_400_000).toISOString().replace('.000Z', 'Z'),
      });
    }
  }
  return tickets;
}

const error = (status: number, name: string, description: string, headers: Record<string, string> = {}): VendorReply => ({ status, body: { error: name, description }, headers });

/**
 * One page of `items`: cursor paging when `page[size]` is given (the cursor is opaque to clients;
 * here the base64url of the next index), else offset paging (`page`, `per_page`).
 */
function paged<T>(request: { query: URLSearchParams; origin: string; path: string }, key: string, items: readonly T[]): VendorReply {
  const size = request.query.get('page[size]');
  if (size !== null) {
    const n = intParam(size, 100, 1, ZENDESK_PAGE_MAX);
    if (n === undefined) return error(400, 'InvalidPaginationParameter', `page[size] must be between 1 and ${ZENDESK_PAGE_MAX}`);
    const after = request.query.get('page[after]');
    const start = after === null ? 0 : Number(Buffer.from(after, 'base64url').toString('utf8'));
    if (!Number.isInteger(start) || start < 0) return error(400, 'InvalidPaginationParameter', 'page[after] is not a cursor this endpoint issued');
    const page = items.slice(start, start + n);
    const end = start + page.length;
    const cursor = (index: number) => Buffer.from(String(index)).toString('base64url');
    const url = (name: string, value: string) => `${request.origin}${request.path}?page%5Bsize%5D=${n}&page%5B${name}%5D=${value}`;
    return {
      status: 200,
      body: {
        [key]: page,
        meta: { has_more: end < items.length, after_cursor: cursor(end), before_cursor: cursor(start) },
        links: { next: url('after', cursor(end)), prev: url('before', cursor(start)) },
      },
    };
  }
  const perPage = intParam(request.query.get('per_page'), 100, 1, 100);
  const number = intParam(request.query.get('page'), 1, 1, 100_000);
  if (perPage === undefined || number === undefined) return error(400, 'InvalidPaginationParameter', 'per_page is 1 to 100, page from 1');
  const start = (number - 1) * perPage;
  const link = (page: number) => `${request.origin}${request.path}?page=${page}&per_page=${perPage}`;
  return {
    status: 200,
    body: {
      [key]: items.slice(start, start + perPage),
      next_page: start + perPage < items.length ? link(number + 1) : null,
      previous_page: number > 1 ? link(number - 1) : null,
      count: items.length,
    },
  };
}

export async function startZendesk(users: readonly ZendeskUser[], tickets: readonly ZendeskTicket[]): Promise<ZendeskFixture> {
  const usersById = new Map(users.map((user) => [String(user.id), user]));
  const ticketsById = new Map(tickets.map((ticket) => [String(ticket.id), ticket]));
  const requested = new Map<string, ZendeskTicket[]>();
  for (const ticket of tickets) requested.set(String(ticket.requester_id), [...(requested.get(String(ticket.requester_id)) ?? []), ticket]);
  const showMany = <T>(ids: string[], from: ReadonlyMap<string, T>, key: string): VendorReply => {
    if (ids.length > ZENDESK_SHOW_MANY_MAX) return error(400, 'InvalidValue', `at most ${ZENDESK_SHOW_MANY_MAX} ids`);
    return { status: 200, body: { [key]: ids.flatMap((id) => (from.has(id) ? [from.get(id)!] : [])), next_page: null, previous_page: null, count: ids.filter((id) => from.has(id)).length } };
  };
  const fixture = await startVendorFixture({
    authorize: bearer(ZENDESK_TOKEN, () => error(401, 'Couldn\'t authenticate you', 'Couldn\'t authenticate you')),
    throttled: () => error(429, 'APIRateLimitExceeded', 'Number of allowed API requests per minute exceeded', { 'retry-after': String(ZENDESK_RETRY_AFTER_SECONDS) }),
    notFound: () => error(404, 'InvalidEndpoint', 'Not found'),
    everyAnswer: (call) => ({ 'x-rate-limit': '700', 'x-rate-limit-remaining': String(Math.max(0, 700 - (call % 700))) }),
    routes: [
      { template: 'GET /api/v2/users/show_many.json', handle: (request) => showMany(csv(request.query.get('ids')), usersById, 'users') },
      { template: 'GET /api/v2/tickets/show_many.json', handle: (request) => showMany(csv(request.query.get('ids')), ticketsById, 'tickets') },
      { template: 'GET /api/v2/users.json', handle: (request) => paged(request, 'users', users) },
      {
        template: 'GET /api/v2/users/{id}/tickets/requested.json',
        handle(request, params) {
          if (!usersById.has(params.id!)) return error(404, 'RecordNotFound', 'Not found');
          return paged(request, 'tickets', requested.get(params.id!) ?? []);
        },
      },
    ],
  });
  return Object.assign(fixture, { users, tickets, requestedBy: (userId: string) => requested.get(userId) ?? [] });
}
