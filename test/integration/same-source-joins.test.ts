/**
 * A mapping between two entities of one source, as a help desk has them: users, and tickets that
 * name their requester by `requester_id`. The join is declared both ways (a user's tickets, a
 * ticket's requester) against a fixture desk on loopback that counts its calls by route; answers
 * are compared with the fixture's data, calls with one per batch of distinct keys per level, and
 * the guard's prediction with the calls made. And one entity joined to itself: a user's manager and
 * reports.
 */
import type { SourceDefinitionInput, VirtualizationConfigInput } from '../../src/config/definition';
import { startFakeSource, type FakeSource } from '../support/fake-source';
import { startHarness, type GraphQLResponse, type Harness } from '../support/harness';
import { dataOf } from './compare';

interface RawUser {
  id: number;
  name: string;
  manager_id: number | null;
}
interface RawTicket {
  id: number;
  subject: string;
  requester_id: number | null;
}

/** 40 users; user n asks n % 4 tickets (0 to 3), and every 9th ticket has no requester. */
/** Every fifth user manages the four after them. */
const USERS: RawUser[] = Array.from({ length: 40 }, (_, i) => ({ id: 1000 + i, name: `User ${i}`, manager_id: i % 5 === 0 ? null : 1000 + i - (i % 5) }));
const TICKETS: RawTicket[] = USERS.flatMap((user, i) =>
  Array.from({ length: i % 4 }, (_, j) => ({ id: 5000 + i * 10 + j, subject: `Ticket ${j} of ${user.name}`, requester_id: user.id })),
);
TICKETS.push(...[1, 2, 3].map((n) => ({ id: 9000 + n, subject: `Orphan ${n}`, requester_id: null })));
const ticketsOf = (userId: number) => TICKETS.filter((t) => t.requester_id === userId);
const userById = new Map(USERS.map((u) => [u.id, u]));

/** Lookups of at most this many values per call: 25 users ask three calls of each route. */
const BATCH = 10;

function answer(path: string, body: string): unknown {
  const values = new Set(((JSON.parse(body || '{}') as { ids?: unknown[] }).ids ?? []).map(String));
  if (path === '/users/by-id') return { users: USERS.filter((u) => values.has(String(u.id))) };
  if (path === '/users/by-manager') return { users: USERS.filter((u) => u.manager_id !== null && values.has(String(u.manager_id))) };
  if (path === '/tickets/by-id') return { tickets: TICKETS.filter((t) => values.has(String(t.id))) };
  if (path === '/tickets/by-requester') return { tickets: TICKETS.filter((t) => t.requester_id !== null && values.has(String(t.requester_id))) };
  return undefined;
}

const lookup = (path: string, resultPath: string, unique: boolean) =>
  ({ method: 'POST', path, body: { ids: '{values}' }, resultPath, unique, valueType: 'number', batch: { maxSize: BATCH } }) as const;

function deskSource(origin: string): SourceDefinitionInput {
  return {
    description: 'A help desk: its users and the tickets they ask.',
    baseUrl: origin,
    limits: { maxCallsPerRequest: 100 },
    entities: {
      DeskUser: {
        key: 'id',
        fields: { id: { from: 'id', type: 'ID', transform: 'id' }, name: 'name', managerId: { from: 'manager_id', type: 'ID', transform: 'id' } },
        lookups: { id: lookup('/users/by-id', 'users', true), managerId: lookup('/users/by-manager', 'users', false) },
        query: { one: 'deskUser', many: 'deskUsers', list: false },
      },
      DeskTicket: {
        key: 'id',
        fields: { id: { from: 'id', type: 'ID', transform: 'id' }, subject: 'subject', requesterId: { from: 'requester_id', type: 'ID', transform: 'id' } },
        lookups: { id: lookup('/tickets/by-id', 'tickets', true), requesterId: lookup('/tickets/by-requester', 'tickets', false) },
        query: { one: 'deskTicket', many: 'deskTickets', list: false },
      },
    },
  };
}

const DESK_JOIN: VirtualizationConfigInput['mappings'] = {
  deskRequests: {
    description: 'A desk user is the requester of the tickets that name them.',
    from: { entity: 'DeskUser', field: 'id' },
    to: { entity: 'DeskTicket', field: 'requesterId' },
    via: { kind: 'fieldKey' },
    forward: { field: 'tickets', orderBy: { field: 'id', direction: 'asc' }, summaries: { ticketCount: { op: 'count' } } },
    inverse: { field: 'requester' },
  },
  deskReports: {
    description: 'A desk user manages the users that name them: one entity joined to itself.',
    from: { entity: 'DeskUser', field: 'id' },
    to: { entity: 'DeskUser', field: 'managerId' },
    via: { kind: 'fieldKey' },
    forward: { field: 'reports', orderBy: { field: 'id', direction: 'asc' } },
    inverse: { field: 'manager' },
  },
};

type Cost = { upstreamCalls: Record<string, { predicted: number; actual: number }> };

let desk: FakeSource;
let h: Harness;
beforeAll(async () => {
  desk = await startFakeSource((request) => {
    const body = answer(request.path, request.body);
    return body === undefined ? { status: 404, body: '{"error":"no such route"}' } : { body: JSON.stringify(body) };
  });
  h = await startHarness({
    configure: (config) => ({ ...config, sources: { ...config.sources, desk: deskSource(desk.origin) }, mappings: { ...config.mappings, ...DESK_JOIN } }),
  });
});
afterAll(async () => {
  await h?.close();
  await desk?.close();
});
beforeEach(() => {
  desk.requests.length = 0;
});

/** The desk's calls since the last reset, by route, with the values each carried. */
function deskCalls(): Record<string, number[]> {
  const calls: Record<string, number[]> = {};
  for (const request of desk.requests) (calls[request.path] ??= []).push((JSON.parse(request.body) as { ids: unknown[] }).ids.length);
  return calls;
}

const batchesOf = (count: number) => Array.from({ length: Math.ceil(count / BATCH) }, (_, i) => Math.min(BATCH, count - i * BATCH));
const expectedTicket = (t: RawTicket) => ({ id: String(t.id), subject: t.subject });

describe('a mapping between two entities of one source', () => {
  it('is served both ways in the schema', () => {
    const fields = (type: string) => Object.keys((h.gateway.schema.getType(type) as { getFields(): object }).getFields());
    expect(fields('DeskUser')).toEqual(expect.arrayContaining(['tickets', 'ticketCount']));
    expect(fields('DeskTicket')).toEqual(expect.arrayContaining(['requester']));
  });

  it('forward: each user with exactly their tickets, one call per batch of users', async () => {
    const ids = USERS.slice(3, 28).map((u) => String(u.id));
    const response: GraphQLResponse<{ deskUsers: Array<{ id: string; name: string; ticketCount: number; tickets: Array<{ id: string; subject: string }> }> }> = await h.query(
      'query ($ids: [ID!]!) { deskUsers(ids: $ids) { id name ticketCount tickets { id subject } } }',
      { ids },
    );
    const users = dataOf(response).deskUsers;
    expect(users.map((u) => u.id)).toEqual(ids);
    for (const user of users) {
      const expected = ticketsOf(Number(user.id)).map(expectedTicket);
      expect(user.name).toBe(userById.get(Number(user.id))!.name);
      expect(user.tickets).toEqual(expected);
      expect(user.ticketCount).toBe(expected.length);
    }
    // Some users have none, some several: the join cannot be right by luck.
    expect(new Set(users.map((u) => u.tickets.length))).toEqual(new Set([0, 1, 2, 3]));
    expect(deskCalls()).toEqual({ '/users/by-id': batchesOf(25), '/tickets/by-requester': batchesOf(25) });
    expect((response.extensions?.cost as Cost).upstreamCalls.desk).toEqual({ predicted: 6, actual: 6 });
  });

  it('inverse: each ticket with its one requester, one call per batch of requesters, as predicted', async () => {
    // One ticket of each user who has any: distinct requesters, so one key per parent is exact.
    const chosen = USERS.flatMap((u) => ticketsOf(u.id).slice(0, 1));
    const ids = chosen.map((t) => String(t.id));
    const response: GraphQLResponse<{ deskTickets: Array<{ id: string; subject: string; requester: { id: string; name: string } | null }> }> = await h.query(
      'query ($ids: [ID!]!) { deskTickets(ids: $ids) { id subject requester { id name } } }',
      { ids },
    );
    expect(dataOf(response).deskTickets).toEqual(chosen.map((t) => ({ ...expectedTicket(t), requester: { id: String(t.requester_id), name: userById.get(t.requester_id!)!.name } })));
    expect(chosen).toHaveLength(30);
    expect(deskCalls()).toEqual({ '/tickets/by-id': batchesOf(30), '/users/by-id': batchesOf(30) });
    expect((response.extensions?.cost as Cost).upstreamCalls.desk).toEqual({ predicted: 6, actual: 6 });
  });

  it('inverse: a ticket that names no requester has none, and asks nothing for it', async () => {
    const orphans = TICKETS.filter((t) => t.requester_id === null);
    const shared = ticketsOf(USERS[3]!.id);
    const chosen = [...orphans, ...shared];
    const response: GraphQLResponse<{ deskTickets: Array<{ id: string; requester: { id: string } | null }> }> = await h.query(
      'query ($ids: [ID!]!) { deskTickets(ids: $ids) { id requester { id } } }',
      { ids: chosen.map((t) => String(t.id)) },
    );
    expect(dataOf(response).deskTickets).toEqual(chosen.map((t) => ({ id: String(t.id), requester: t.requester_id === null ? null : { id: String(t.requester_id) } })));
    // Three tickets of one requester: one value asked, once.
    expect(shared).toHaveLength(3);
    expect(deskCalls()).toEqual({ '/tickets/by-id': [6], '/users/by-id': [1] });
  });

  it('both ways in one query: a user, their tickets, and each ticket back to that user', async () => {
    const ids = USERS.filter((_, i) => i % 4 === 3).slice(0, 5).map((u) => String(u.id));
    const response: GraphQLResponse<{ deskUsers: Array<{ id: string; tickets: Array<{ id: string; requester: { id: string } | null }> }> }> = await h.query(
      'query ($ids: [ID!]!) { deskUsers(ids: $ids) { id tickets { id requester { id } } } }',
      { ids },
    );
    const users = dataOf(response).deskUsers;
    for (const user of users) {
      expect(user.tickets.map((t) => t.id)).toEqual(ticketsOf(Number(user.id)).map((t) => String(t.id)));
      for (const ticket of user.tickets) expect(ticket.requester).toEqual({ id: user.id });
    }
    expect(users.flatMap((u) => u.tickets)).toHaveLength(15);
    // The requesters are the users this request loaded already: the third level asks nothing.
    expect(deskCalls()).toEqual({ '/users/by-id': [5], '/tickets/by-requester': [5] });
    expect((response.extensions?.cost as Cost).upstreamCalls.desk).toEqual({ predicted: 2, actual: 2 });
  });

  it('one entity joined to itself: each user with their manager and their reports', async () => {
    const ids = USERS.slice(3, 13).map((u) => String(u.id));
    const response: GraphQLResponse<{ deskUsers: Array<{ id: string; manager: { id: string; name: string } | null; reports: Array<{ id: string }> }> }> = await h.query(
      'query ($ids: [ID!]!) { deskUsers(ids: $ids) { id manager { id name } reports { id } } }',
      { ids },
    );
    expect(dataOf(response).deskUsers).toEqual(
      USERS.slice(3, 13).map((u) => ({
        id: String(u.id),
        manager: u.manager_id === null ? null : { id: String(u.manager_id), name: userById.get(u.manager_id)!.name },
        reports: USERS.filter((r) => r.manager_id === u.id).map((r) => ({ id: String(r.id) })),
      })),
    );
    // Ten users, then the managers not among them (1000, not 1005 or 1010) and everyone's reports, one call each.
    expect(deskCalls()).toEqual({ '/users/by-id': [10, 1], '/users/by-manager': [10] });
    expect((response.extensions?.cost as Cost).upstreamCalls.desk).toEqual({ predicted: 3, actual: 3 });
  });
});
