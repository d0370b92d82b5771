/**
 * Records a mapping left out are said in the answer, not only in the log: a CRM whose segment enum
 * the definition maps without `SMB` (as a source that starts sending a code the contract did not
 * list) answers every other record, and `extensions.rejected` counts the SMB ones per source,
 * entity and reason, with no value. An answer served from the upstream-call cache or from the
 * response cache says the same as the answer it was made from; a clean answer has no extension.
 */
import type { VirtualizationConfigInput } from '../../src/config/definition';
import { ManualClock } from '../support/manual-clock';
import { startHarness, type Harness } from '../support/harness';
import { customerIdOfRef, data, expectedCustomer } from './ground-truth';

const REASON = 'segment: expected one of ENT, MM, found a string';
const rejected = (count: number) => [{ source: 'crm', entity: 'Customer', count, reason: REASON }];

/** The CRM's segment transform without SMB. */
function withoutSmb(config: VirtualizationConfigInput): VirtualizationConfigInput {
  const crm = config.sources.crm! as { entities: Record<string, { fields: Record<string, unknown> }> };
  crm.entities.Customer!.fields.segment = { from: 'Segment__c', transform: { enum: { ENT: 'ENTERPRISE', MM: 'MID_MARKET' } } };
  return config;
}

const contacts = data.crm.contacts;
const smb = contacts.filter((c) => c.Segment__c === 'SMB');
const other = contacts.filter((c) => c.Segment__c !== 'SMB');

describe('without caches', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ configure: withoutSmb });
  });
  afterAll(() => h?.close());

  it('answers the other records of a list page and counts the ones left out', async () => {
    const res = await h.query<{ customers: { nodes: Array<{ id: string; segment: string }> } }>('{ customers(first: 40) { nodes { id segment } } }');
    expect(res.errors).toBeUndefined();
    const window = contacts.slice(0, 40);
    const left = window.filter((c) => c.Segment__c === 'SMB').length;
    expect(left).toBeGreaterThan(0);
    expect(res.data!.customers.nodes.map((node) => node.id)).toEqual(window.filter((c) => c.Segment__c !== 'SMB').map((c) => c.Id));
    expect(res.extensions!.rejected).toEqual(rejected(left));
    // Besides the log, which keeps a line per record.
    expect(h.logs.app.entries().filter((line) => line.msg === 'record rejected by its mapping' && line.field === 'segment').length).toBeGreaterThanOrEqual(left);
  });

  it('counts records left out of a batch lookup and of a join, and names no value', async () => {
    const ids = [smb[0]!.Id, other[0]!.Id, smb[1]!.Id];
    const res = await h.query<{ customersByIds: Array<{ id: string } | null> }>(`{ customersByIds(ids: ${JSON.stringify(ids)}) { id name } }`);
    expect(res.errors).toBeUndefined();
    expect(res.data!.customersByIds.filter((c) => c !== null).map((c) => c!.id)).toEqual([other[0]!.Id]);
    expect(res.extensions!.rejected).toEqual(rejected(2));
    const text = JSON.stringify(res.extensions);
    for (const value of [smb[0]!.Id, smb[0]!.Name, 'SMB']) expect(text).not.toContain(value);

    // An order whose customer is one of them: the join finds no customer, and the answer says why.
    const order = data.orders.orders.find((o) => smb.some((c) => c.Id === customerIdOfRef(o.customer_ref)))!;
    const joined = await h.query(`{ order(id: "${order.id}") { id customer { id } } }`);
    expect(joined.data).toEqual({ order: { id: String(order.id), customer: null } });
    expect(joined.extensions!.rejected).toEqual(rejected(1));
  });

  it('has no extensions.rejected when nothing was left out', async () => {
    const res = await h.query(`{ customer(id: "${other[1]!.Id}") { id segment } }`);
    expect(res.data).toEqual({ customer: { id: other[1]!.Id, segment: expectedCustomer(other[1]!.Id).segment } });
    expect(res.extensions).not.toHaveProperty('rejected');
    // `first: 0` reads one record only for the total: nothing of the answer is left out, even when that record does not fit.
    expect(contacts[0]!.Segment__c).toBe('SMB');
    const total = await h.query<{ customers: { totalCount: number } }>('{ customers(first: 0) { totalCount } }');
    expect(total.data!.customers.totalCount).toBe(contacts.length);
    expect(total.extensions).not.toHaveProperty('rejected');
  });
});

describe('with the upstream-call and response caches', () => {
  const clock = new ManualClock();
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      cache: true,
      clock,
      configure: (config) => ({ ...withoutSmb(config), cache: { upstream: { enabled: true, ttlMs: 60_000 }, responses: { admitAfter: 2, windowMs: 60_000, ttlMs: 60_000 } } }),
    });
  });
  afterAll(() => h?.close());

  it('says the count again when the upstream-call cache answers the lookup', async () => {
    h.server.responseCache.clear();
    const ids = [smb[2]!.Id, other[2]!.Id];
    // Two queries of different shape: the response tier never answers the second.
    const first = await h.query(`{ customersByIds(ids: ${JSON.stringify(ids)}) { id } }`);
    expect(first.extensions!.rejected).toEqual(rejected(1));
    h.resetUpstream();
    const again = await h.query<{ customersByIds: Array<{ id: string } | null> }>(`{ customersByIds(ids: ${JSON.stringify(ids)}) { id name } }`);
    expect(h.upstream().crm).toEqual({});
    expect(again.data!.customersByIds.filter((c) => c !== null).map((c) => c!.id)).toEqual([other[2]!.Id]);
    expect(again.extensions!.rejected).toEqual(rejected(1));
  });

  it('keeps extensions.rejected with a hot answer: a hit says it as the answer it was made from', async () => {
    h.server.responseCache.clear();
    const query = `{ customer(id: "${smb[3]!.Id}") { id } other: customer(id: "${other[3]!.Id}") { id } }`;
    const first = await h.query(query);
    expect(first.data).toEqual({ customer: null, other: { id: other[3]!.Id } });
    expect(first.extensions!.rejected).toEqual(rejected(1));
    await h.query(query);
    h.resetUpstream();
    const hot = await h.query(query);
    expect(h.upstream().total).toBe(0);
    expect(hot.extensions!.responseCache).toMatchObject({ hit: true });
    expect(hot.data).toEqual(first.data);
    expect(hot.extensions!.rejected).toEqual(rejected(1));
  });
});
