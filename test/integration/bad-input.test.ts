/**
 * Bad input is answered plainly: an id that names nothing is null (not an error), and an argument
 * that does not fit its type or range is `BAD_USER_INPUT` with a message that says what is wrong,
 * caught before any source is called.
 */
import { startHarness, type GraphQLResponse, type Harness } from '../support/harness';
import { dataOf } from './compare';
import { contact, data } from './ground-truth';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

const KNOWN_CUSTOMER = data.crm.contacts[7]!.Id;

describe('ids that name nothing', () => {
  it.each([
    ['customer', 'a well-formed CRM id no contact has', `{ customer(id: "0035e00000ZZZZZZZZ") { id name orders { id } } }`],
    ['customer', 'a string that is no CRM id', `{ customer(id: "nope") { id } }`],
    ['customer', 'an empty string', `{ customer(id: "") { id } }`],
    ['customer', 'two ids glued by the batch separator', `{ customer(id: "${data.crm.contacts[0]!.Id},${data.crm.contacts[1]!.Id}") { id } }`],
    ['order', 'a number no order has', `{ order(id: "99999999") { id customer { id } } }`],
    ['order', 'an id that is not a number', `{ order(id: "abc") { id } }`],
    ['order', 'a path that tries to leave the route', `{ order(id: "../customers/1") { id } }`],
    ['ticket', 'a number no ticket has', `{ ticket(id: "1") { id customer { id } } }`],
    ['ticket', 'an id that is not a number', `{ ticket(id: "abc") { id } }`],
  ])('%s(id:) of %s is null with no error', async (field, _what, query) => {
    const result = dataOf(await h.query<Record<string, unknown>>(query));
    expect(result).toEqual({ [field]: null });
  });

  it('customersByIds answers null in place of each unknown id, and a bad id does not spoil its batch', async () => {
    const known = data.crm.contacts.slice(100, 200).map((c) => c.Id);
    // 100 values, the CRM's batch limit, one of them two ids glued by the separator; then an empty one.
    const ids = [`${known[0]},${known[1]}`, 'nope', ...known.slice(2, 99), '0035e00000ZZZZZZZZ', ''];
    const { customersByIds } = dataOf(
      await h.query<{ customersByIds: Array<{ id: string; name: string } | null> }>(`query($ids: [ID!]!) { customersByIds(ids: $ids) { id name } }`, { ids }),
    );
    expect(customersByIds).toEqual(ids.map((id) => (data.crm.byId.has(id) ? { id, name: contact(id).Name } : null)));
    expect(customersByIds.filter((c) => c !== null)).toHaveLength(97);
  });
});

interface Case {
  name: string;
  query: string;
  variables?: Record<string, unknown>;
  /** What the message must say. */
  says: RegExp;
}

const MALFORMED: Case[] = [
  { name: 'first: "abc"', query: `{ customers(first: "abc") { totalCount } }`, says: /Int cannot represent non-integer value: "abc"/ },
  { name: 'first: 1.5', query: `{ customers(first: 1.5) { totalCount } }`, says: /Int cannot represent non-integer value: 1\.5/ },
  { name: 'segment: NOPE', query: `{ customers(segment: NOPE) { totalCount } }`, says: /"NOPE" does not exist in "CustomerSegment"/ },
  { name: 'segment as a string', query: `{ customers(segment: "ENTERPRISE") { totalCount } }`, says: /CustomerSegment.*cannot represent non-enum value: "ENTERPRISE"/ },
  { name: 'tickets(status: NOPE)', query: `{ customer(id: "${KNOWN_CUSTOMER}") { tickets(status: NOPE) { id } } }`, says: /"NOPE" does not exist in "TicketStatus"/ },
  { name: 'a missing required id', query: `{ customer { id } }`, says: /argument "id" of type "ID!" is required/ },
  { name: 'a missing required id on order', query: `{ order { id } }`, says: /argument "id" of type "ID!" is required/ },
  { name: 'a missing required ids list', query: `{ customersByIds { id } }`, says: /argument "ids" of type "\[ID!\]!" is required/ },
  { name: 'a variable value of the wrong type', query: `query($n: Int) { customers(first: $n) { totalCount } }`, variables: { n: 'abc' }, says: /Variable "\$n" got invalid value "abc"/ },
  { name: 'a variable declared with the wrong type', query: `query($n: String) { customers(first: $n) { totalCount } }`, variables: { n: '5' }, says: /Variable "\$n" of type "String" used in position expecting type "Int"/ },
  { name: 'a required variable not given', query: `query($id: ID!) { customer(id: $id) { id } }`, variables: {}, says: /Variable "\$id" of required type "ID!" was not provided/ },
  { name: 'a required variable given null', query: `query($id: ID!) { customer(id: $id) { id } }`, variables: { id: null }, says: /Variable "\$id" of non-null type "ID!" must not be null/ },
  { name: 'an object in a list of ids', query: `query($ids: [ID!]!) { customersByIds(ids: $ids) { id } }`, variables: { ids: [{}] }, says: /Variable "\$ids" got invalid value \{\} at "ids\[0\]"/ },
];

/** The argument errors of an answer: each BAD_USER_INPUT, with no data where the error struck. */
function expectBadUserInput(response: GraphQLResponse, says: RegExp): void {
  expect(response.errors?.length).toBeGreaterThan(0);
  for (const error of response.errors ?? []) expect(error.extensions?.code).toBe('BAD_USER_INPUT');
  expect(response.errors!.map((e) => e.message).join('\n')).toMatch(says);
}

describe('malformed arguments', () => {
  it.each(MALFORMED)('$name gives BAD_USER_INPUT saying what is wrong, before any source call', async ({ query, variables, says }) => {
    h.resetUpstream();
    const response = await h.query(query, variables);
    expectBadUserInput(response, says);
    expect(response.data ?? null).toBeNull();
    expect(h.upstream().total).toBe(0);
  });

  it.each([-1, 5000])('customers(first: %i) gives BAD_USER_INPUT naming the argument and its range, with no source call', async (first) => {
    h.resetUpstream();
    const response = await h.query(`{ customers(first: ${first}) { totalCount } }`);
    expectBadUserInput(response, new RegExp(`"first" must be between 0 and \\d+ \\(got ${first}\\)`));
    expect(response.errors![0]!.extensions?.argument).toBe('first');
    expect(response.errors![0]!.path).toEqual(['customers']);
    expect(h.upstream().total).toBe(0);
  });

  it('orders(first: -1) gives BAD_USER_INPUT at that field while the rest of the customer is served', async () => {
    const response = await h.query<{ customer: { id: string; orders: null } }>(`{ customer(id: "${KNOWN_CUSTOMER}") { id orders(first: -1) { id } } }`);
    expectBadUserInput(response, /"first" must not be negative \(got -1\)/);
    expect(response.errors![0]!.path).toEqual(['customer', 'orders']);
    expect(response.data?.customer.id).toBe(KNOWN_CUSTOMER);
  });

  it('a cursor the gateway never issued gives BAD_USER_INPUT that says how to page', async () => {
    const response = await h.query(`{ customers(first: 3, after: "not-a-cursor") { nodes { id } } }`);
    expectBadUserInput(response, /"after".*endCursor/);
    expect(response.errors![0]!.extensions?.argument).toBe('after');
  });
});
