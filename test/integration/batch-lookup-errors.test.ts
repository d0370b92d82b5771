/**
 * Batch lookups' per-key errors through the gateway: a source shaped like HubSpot's CRM v3 batch
 * read (per-key inputs, a 207 naming failing ids in `context.ids`), a ticket service reporting its
 * errors by position among the ids sent, and a company service with no batch endpoint (its
 * `companiesByIds` one call per key). A key that fails lands as SOURCE_PARTIAL_FAILURE at the exact
 * path of its field in the answer, beside the other keys served; calls are counted at the source.
 */
import type { MappingDefinitionInput, SourceDefinitionInput } from '../../src/config/definition';
import { startHarness, type Harness } from '../support/harness';
import { startFakeSource, type Answer, type FakeSource, type SeenRequest } from '../support/fake-source';

const contacts = Array.from({ length: 12 }, (_, i) => ({ id: String(2000 + i), email: `c${i}@example.com` }));
const contactById = new Map(contacts.map((c) => [c.id, c]));
/** Contacts the CRM refuses with a category that is not "not found". */
const SCOPED = new Set(['2003', '2007']);
const deals = contacts.map((c, i) => ({ id: `D${i}`, contactId: c.id, amount: 100 * (i + 1) }));
const tickets = Array.from({ length: 6 }, (_, i) => ({ id: `T${i}`, subject: `Subject ${i}` }));
/** Tickets the ticket service refuses: it says so by the position of the id in the request. */
const LOCKED = new Set(['T2']);
const companies = Array.from({ length: 10 }, (_, i) => ({ id: String(500 + i), name: `Company ${i}` }));
const COMPANY_CONCURRENCY = 3;

let inFlight = 0;
let peakInFlight = 0;

function crm(request: SeenRequest): Answer {
  const url = new URL(request.path, 'http://x');
  if (url.pathname === '/crm/v3/objects/contacts/batch/read') {
    const ids = (JSON.parse(request.body) as { inputs: Array<{ id: string }> }).inputs.map((input) => input.id);
    const results = ids.filter((id) => contactById.has(id) && !SCOPED.has(id)).map((id) => ({ id, properties: { email: contactById.get(id)!.email } }));
    const missing = ids.filter((id) => !contactById.has(id));
    const refused = ids.filter((id) => SCOPED.has(id));
    const errors = [
      ...(missing.length ? [{ status: 'error', category: 'OBJECT_NOT_FOUND', message: 'Could not get some CONTACT objects', context: { ids: missing } }] : []),
      ...(refused.length ? [{ status: 'error', category: 'MISSING_SCOPES', message: 'This app lacks a scope for some contacts', context: { ids: refused } }] : []),
    ];
    return { status: errors.length ? 207 : 200, body: JSON.stringify({ status: 'COMPLETE', results, ...(errors.length ? { numErrors: errors.length, errors } : {}) }) };
  }
  if (url.pathname === '/crm/v3/deals') {
    const of = url.searchParams.get('contactId')?.split(',');
    const offset = Number(url.searchParams.get('offset') ?? 0);
    const page = of ? deals.filter((d) => of.includes(d.contactId)) : deals.slice(offset, offset + Number(url.searchParams.get('limit') ?? 100));
    return { body: JSON.stringify({ results: page }) };
  }
  if (url.pathname === '/tickets/batch') {
    const ids = (JSON.parse(request.body) as { ids: string[] }).ids;
    return {
      body: JSON.stringify({
        tickets: ids.filter((id) => !LOCKED.has(id)).map((id) => tickets.find((t) => t.id === id)).filter(Boolean),
        failures: ids.flatMap((id, index) => (LOCKED.has(id) ? [{ index, code: 'LOCKED', reason: 'ticket is under legal hold' }] : [])),
      }),
    };
  }
  const company = /^\/companies\/([^/]+)$/.exec(url.pathname);
  if (company) {
    const found = companies.find((c) => c.id === company[1]);
    return { status: found ? 200 : 404, body: JSON.stringify(found ?? { message: 'not found' }) };
  }
  return { status: 404, body: '{"message":"no route"}' };
}

function source(baseUrl: string): SourceDefinitionInput {
  return {
    baseUrl,
    limits: { timeoutMs: 2_000, maxConcurrency: COMPANY_CONCURRENCY, maxCallsPerRequest: 50 },
    entities: {
      Contact: {
        key: 'id',
        properties: { under: 'properties' },
        fields: { id: 'id', email: 'properties.email' },
        lookups: {
          id: {
            method: 'POST', path: '/crm/v3/objects/contacts/batch/read', body: { inputs: [{ id: '{value}' }], properties: '{properties}' },
            resultPath: 'results', unique: true, batch: { maxSize: 100 },
            itemErrors: { path: 'errors', keyPath: 'context.ids', codePath: 'category', messagePath: 'message', notFoundCodes: ['OBJECT_NOT_FOUND'] },
          },
        },
        query: { one: 'contact', many: 'contactsByIds', list: false },
      },
      Deal: {
        key: 'id',
        fields: { id: 'id', contactId: 'contactId', amount: 'amount' },
        lookups: { id: { path: '/crm/v3/deals/{value}', unique: true }, contactId: { path: '/crm/v3/deals', query: { contactId: '{values}' }, resultPath: 'results', unique: false, batch: { maxSize: 50 } } },
        list: { path: '/crm/v3/deals', resultPath: 'results', paging: { type: 'offset', offsetParam: 'offset', limitParam: 'limit', maxPageSize: 100 } },
        query: { one: false, many: false, list: 'deals' },
      },
      Incident: {
        key: 'id',
        fields: { id: 'id', subject: 'subject' },
        lookups: {
          id: {
            method: 'POST', path: '/tickets/batch', body: { ids: '{values}' }, resultPath: 'tickets', unique: true, batch: { maxSize: 50 },
            itemErrors: { path: 'failures', indexPath: 'index', codePath: 'code', messagePath: 'reason' },
          },
        },
        query: { one: 'incident', many: 'incidentsByIds', list: false },
      },
      Company: {
        key: 'id',
        fields: { id: 'id', name: 'name' },
        lookups: { id: { path: '/companies/{value}', unique: true } },
        query: { one: 'company', many: 'companiesByIds', list: false },
      },
    },
  } as SourceDefinitionInput;
}

const mappings: Record<string, MappingDefinitionInput> = {
  dealContact: {
    description: 'A deal names its contact.',
    from: { entity: 'Contact', field: 'id' },
    to: { entity: 'Deal', field: 'contactId' },
    via: { kind: 'fieldKey' },
    forward: { field: 'deals' },
    inverse: { field: 'contact' },
  } as MappingDefinitionInput,
};

type Cost = { upstreamCalls: Record<string, { predicted: number; actual: number }> };

let server: FakeSource;
let h: Harness;
/** Company calls held until as many as the source's concurrency limit are in flight (or all have come). */
let held: Array<() => void> = [];
let companyCalls = 0;
let companyCallsExpected = 0;

beforeAll(async () => {
  server = await startFakeSource((request) => {
    if (!request.path.startsWith('/companies/')) return crm(request);
    inFlight++;
    companyCalls++;
    peakInFlight = Math.max(peakInFlight, inFlight);
    return new Promise<Answer>((resolve) => {
      held.push(() => {
        inFlight--;
        resolve(crm(request));
      });
      // Once as many as allowed are in flight (or every call has come), a window for any call
      // beyond the bound to arrive before the held ones are answered.
      if (held.length === COMPANY_CONCURRENCY || companyCalls === companyCallsExpected) {
        setTimeout(() => {
          const release = held;
          held = [];
          for (const answer of release) answer();
        }, 25);
      }
    });
  });
  const definition = JSON.parse(JSON.stringify(source(server.origin))) as SourceDefinitionInput;
  h = await startHarness({ configure: (config) => ({ ...config, sources: { ...config.sources, vendor: definition }, mappings: { ...config.mappings, ...mappings } }) });
}, 60_000);
afterAll(async () => {
  await h?.close();
  await server?.close();
});
beforeEach(() => {
  server.requests.length = 0;
});

const calls = (prefix: string) => server.requests.filter((r) => r.path.startsWith(prefix)).length;

describe('a key the source reports as failed, at the path of its field', () => {
  it('contactsByIds: the refused contact is SOURCE_PARTIAL_FAILURE at ["contactsByIds", 1], the others served, unknown ids null', async () => {
    const ids = ['2000', '2003', '9999', '2001'];
    const answer = await h.query<{ contactsByIds: Array<{ id: string; email: string } | null> }>('query($ids: [ID!]!) { contactsByIds(ids: $ids) { id email } }', { ids });
    expect(answer.data?.contactsByIds).toEqual([{ id: '2000', email: 'c0@example.com' }, null, null, { id: '2001', email: 'c1@example.com' }]);
    expect(answer.errors).toHaveLength(1);
    expect(answer.errors![0]).toMatchObject({ path: ['contactsByIds', 1], extensions: { code: 'SOURCE_PARTIAL_FAILURE' } });
    expect(answer.errors![0]!.message).toContain('MISSING_SCOPES');
    expect(calls('/crm/v3/objects/contacts/batch/read')).toBe(1);
  });

  it('a nested join: each refused contact fails at its deal\'s contact field, every other deal with its contact, in one batch call', async () => {
    const answer = await h.query<{ deals: { nodes: Array<{ id: string; amount: string; contact: { id: string; email: string } | null }> } }>('{ deals(first: 20) { nodes { id amount contact { id email } } } }');
    const nodes = answer.data!.deals.nodes;
    expect(nodes.map((n) => n.id)).toEqual(deals.map((d) => d.id));
    nodes.forEach((node, i) => {
      const expected = SCOPED.has(deals[i]!.contactId) ? null : { id: deals[i]!.contactId, email: contactById.get(deals[i]!.contactId)!.email };
      expect(node).toEqual({ id: deals[i]!.id, amount: String(deals[i]!.amount), contact: expected });
    });
    const failing = deals.flatMap((d, i) => (SCOPED.has(d.contactId) ? [i] : []));
    expect(failing).toEqual([3, 7]);
    expect((answer.errors ?? []).map((e) => [e.path, e.extensions?.code])).toEqual(failing.map((i) => [['deals', 'nodes', i, 'contact'], 'SOURCE_PARTIAL_FAILURE']));
    expect(calls('/crm/v3/objects/contacts/batch/read')).toBe(1);
  });
});

describe('errors reported by position among the ids sent (itemErrors.indexPath)', () => {
  it('the id at the reported position fails alone, with the source\'s code and reason', async () => {
    const ids = ['T0', 'T2', 'T4', 'T9'];
    const answer = await h.query<{ incidentsByIds: Array<{ id: string; subject: string } | null> }>('query($ids: [ID!]!) { incidentsByIds(ids: $ids) { id subject } }', { ids });
    expect(answer.data?.incidentsByIds).toEqual([{ id: 'T0', subject: 'Subject 0' }, null, { id: 'T4', subject: 'Subject 4' }, null]);
    expect(answer.errors).toHaveLength(2);
    const byIndex = new Map(answer.errors!.map((e) => [e.path?.[1], e]));
    expect(byIndex.get(1)).toMatchObject({ path: ['incidentsByIds', 1], extensions: { code: 'SOURCE_PARTIAL_FAILURE' } });
    expect(byIndex.get(1)!.message).toContain('LOCKED: ticket is under legal hold');
    // The answer reported an error, so T9 (neither returned nor said not found) is not a silent null.
    expect(byIndex.get(3)).toMatchObject({ path: ['incidentsByIds', 3], extensions: { code: 'SOURCE_PARTIAL_FAILURE' } });
    expect(server.requests.map((r) => JSON.parse(r.body) as unknown)).toEqual([{ ids }]);
  });
});

describe('companiesByIds without a batch endpoint', () => {
  it('one call per key, predicted equal to the calls made, never more in flight than the source allows', async () => {
    const ids = companies.map((c) => c.id);
    companyCalls = 0;
    companyCallsExpected = ids.length;
    peakInFlight = 0;
    const answer = await h.query<{ companiesByIds: Array<{ id: string; name: string } | null> }>('query($ids: [ID!]!) { companiesByIds(ids: $ids) { id name } }', { ids });
    expect(answer.errors).toBeUndefined();
    expect(answer.data?.companiesByIds).toEqual(companies);
    expect(server.requests.map((r) => r.path).sort()).toEqual(ids.map((id) => `/companies/${id}`).sort());
    expect((answer.extensions?.cost as Cost).upstreamCalls.vendor).toEqual({ predicted: ids.length, actual: ids.length });
    expect(peakInFlight).toBeLessThanOrEqual(COMPANY_CONCURRENCY);
    // The calls overlap: the bound is a pool, not one call at a time.
    expect(peakInFlight).toBeGreaterThan(1);
  });
});
