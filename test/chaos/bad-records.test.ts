/**
 * Records that break the contract, served by the CRM sandbox on purpose: a page of 1,000 customers
 * in which 3 records lack their key, carry a date nobody can read, or an unknown segment. Each is
 * left out alone, with a logged reason that names the source, entity, key and rule; the other 997
 * are served, with no error.
 */
import type { RejectionListener } from '../../src/connectors/source-connector';
import { sandboxDataset } from '../../sources/sandbox';
import { startHarness, type Harness } from '../support/harness';

type Rejection = Parameters<RejectionListener>[0];
const contacts = sandboxDataset().crm.contacts.slice(0, 1_000);
const QUERY = '{ customers(first: 1000) { totalCount nodes { id } } }';

let h: Harness;
const rejections: Rejection[] = [];
beforeAll(async () => {
  h = await startHarness({ gateway: { onReject: (event) => rejections.push(event) } });
  await h.sandboxes.crm.setKnobs({ badRecordRate: { every: 333 } });
});
afterAll(() => h.close());

it('serves 997 of 1,000 records when 3 break the contract, and reports each rejected one', async () => {
  const res = await h.query<{ customers: { totalCount: number; nodes: Array<{ id: string }> } }>(QUERY);
  expect(res.errors).toBeUndefined();
  const broken = [contacts[332]!, contacts[665]!, contacts[998]!];
  expect(res.data!.customers.nodes.map((node) => node.id)).toEqual(contacts.filter((c) => !broken.includes(c)).map((c) => c.Id));
  expect(res.data!.customers.totalCount).toBe(sandboxDataset().crm.contacts.length);
  expect(h.upstream().crm).toEqual({ 'GET /services/data/v58.0/query/Contact': 5 });
  expect(rejections).toEqual([
    { source: 'crm', entity: 'Customer', key: undefined, field: 'id', from: 'Id', reason: 'is required but missing', summary: 'id: required but missing' },
    {
      source: 'crm',
      entity: 'Customer',
      key: broken[1]!.Id,
      field: 'createdAt',
      from: 'CreatedDate',
      reason: 'expected an ISO-8601 date-time, found a string of 10 characters',
      summary: 'createdAt: expected an ISO-8601 date-time, found a string',
    },
    {
      source: 'crm',
      entity: 'Customer',
      key: broken[2]!.Id,
      field: 'segment',
      from: 'Segment__c',
      reason: 'expected one of ENT, MM, SMB, found a string of 19 characters',
      summary: 'segment: expected one of ENT, MM, SMB, found a string',
      enumCode: 'NOT_IN_THE_CONTRACT',
    },
  ]);
  // The answer says so too: the count per source, entity and reason, no value.
  expect(res.extensions!.rejected).toEqual([
    { source: 'crm', entity: 'Customer', count: 1, reason: 'id: required but missing' },
    { source: 'crm', entity: 'Customer', count: 1, reason: 'createdAt: expected an ISO-8601 date-time, found a string' },
    { source: 'crm', entity: 'Customer', count: 1, reason: 'segment: expected one of ENT, MM, SMB, found a string' },
  ]);
});

it('logs each rejection by default as one JSON line, with the reason and no payload values', async () => {
  const logged = await startHarness();
  try {
    await logged.sandboxes.crm.setKnobs({ badRecordRate: { every: 333 } });
    await logged.query(QUERY);
  } finally {
    await logged.close();
  }
  const entries = logged.logs.app.entries().filter((line) => line.msg === 'record rejected by its mapping');
  expect(entries).toHaveLength(3);
  expect(entries[1]).toMatchObject({ level: 40, log: 'app', source: 'crm', entity: 'Customer', key: contacts[665]!.Id, field: 'createdAt', from: 'CreatedDate', reason: 'expected an ISO-8601 date-time, found a string of 10 characters' });
  // No value of the rejected records, not even the one that broke the rule.
  const text = JSON.stringify(logged.logs.app.entries());
  for (const value of [contacts[665]!.Email, contacts[665]!.Name, 'not a date', 'NOT_IN_THE_CONTRACT']) expect(text).not.toContain(value);
});
