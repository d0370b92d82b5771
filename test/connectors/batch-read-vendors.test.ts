/**
 * Lookups declared against vendor batch-read APIs as they are documented, over fixture HTTP
 * servers shaped like them: HubSpot CRM v3 batch read (per-key objects in a POST body, 207 with
 * `context.ids`) and Salesforce sObject Collections (an answer aligned with the ids sent).
 */
import { sourceDefinition, type SourceDefinitionInput } from '../../src/config/definition';
import { isSourceError } from '../../src/connectors/errors';
import { SourceConnector } from '../../src/connectors/source-connector';
import { startFakeSource, type FakeSource, type SeenRequest } from '../support/fake-source';

interface Contact { id: string; email: string; firstname: string }
const contacts: Contact[] = Array.from({ length: 300 }, (_, i) => ({ id: String(1000 + i), email: `c${i}@example.com`, firstname: `Name${i}` }));
const byId = new Map(contacts.map((c) => [c.id, c]));
/** Ids the fixture fails with a category that is not "not found". */
const broken = new Set(['1005']);
/** When set, the fixture answers every call 207 with one error that names no id. */
let failAllUnnamed = false;

function hubspot(request: SeenRequest) {
  const body = JSON.parse(request.body) as { inputs: Array<{ id: unknown }>; properties: string[] };
  if (!Array.isArray(body.inputs) || body.inputs.some((input) => typeof input?.id !== 'string')) {
    // What HubSpot does with a flat array of ids: every input invalid, a 207 naming none of them.
    return { status: 207, body: JSON.stringify({ status: 'COMPLETE', results: [], numErrors: 1, errors: [{ status: 'error', category: 'VALIDATION_ERROR', message: 'Invalid input JSON' }] }) };
  }
  if (failAllUnnamed) return { status: 207, body: JSON.stringify({ status: 'COMPLETE', results: [], numErrors: 1, errors: [{ status: 'error', category: 'RATE_LIMITS', message: 'try later' }] }) };
  const ids = body.inputs.map((input) => input.id as string);
  const results = ids.filter((id) => byId.has(id) && !broken.has(id)).map((id) => {
    const c = byId.get(id)!;
    return { id, properties: Object.fromEntries(body.properties.map((p) => [p, c[p as keyof Contact]])), createdAt: '2024-01-01T00:00:00Z', updatedAt: '2024-01-02T00:00:00Z', archived: false };
  });
  const missing = ids.filter((id) => !byId.has(id));
  const failing = ids.filter((id) => broken.has(id));
  const errors = [
    ...(missing.length ? [{ status: 'error', category: 'OBJECT_NOT_FOUND', message: 'Could not get some CONTACT objects, they may be deleted or not exist. Check that ids are valid.', context: { ids: missing } }] : []),
    ...(failing.length ? [{ status: 'error', category: 'MISSING_SCOPES', message: 'This app lacks a scope for some contacts', context: { ids: failing } }] : []),
  ];
  return { status: errors.length ? 207 : 200, body: JSON.stringify({ status: 'COMPLETE', results, ...(errors.length ? { numErrors: errors.length, errors } : {}) }) };
}

function salesforce(request: SeenRequest) {
  const url = new URL(request.path, 'http://x');
  const ids = (url.searchParams.get('ids') ?? '').split(',');
  return { status: 200, body: JSON.stringify(ids.map((id) => (byId.has(id) ? { attributes: { type: 'Contact' }, Id: `${id}AAA`, Email: byId.get(id)!.email } : null))) };
}

let server: FakeSource;
beforeAll(async () => {
  server = await startFakeSource((request) => (request.path.startsWith('/crm/') ? hubspot(request) : salesforce(request)));
});
afterAll(() => server.close());
beforeEach(() => {
  server.requests.length = 0;
  failAllUnnamed = false;
});

const hubspotLookup = { method: 'POST', path: '/crm/v3/objects/contacts/batch/read', body: { inputs: [{ id: '{value}' }], properties: '{properties}' }, resultPath: 'results', unique: true, batch: { maxSize: 100 }, itemErrors: { path: 'errors', keyPath: 'context.ids', codePath: 'category', messagePath: 'message', notFoundCodes: ['OBJECT_NOT_FOUND'] } };

function hubspotConnector(edit: (lookup: Record<string, unknown>) => void = () => undefined): SourceConnector {
  const lookup: Record<string, unknown> = structuredClone(hubspotLookup);
  edit(lookup);
  const definition: SourceDefinitionInput = {
    baseUrl: server.origin,
    entities: {
      Contact: { key: 'id', properties: { under: 'properties' }, fields: { id: 'id', email: 'properties.email', firstName: 'properties.firstname' }, lookups: { id: lookup as never } },
    },
  } as SourceDefinitionInput;
  return new SourceConnector('hubspot', sourceDefinition.parse(definition));
}

const sent = () => server.requests.map((r) => JSON.parse(r.body) as { inputs: Array<{ id: string }>; properties: string[] });

describe('HubSpot CRM v3 batch read, declared as documented', () => {
  it('reads 300 contacts in 3 calls of 100 per-key inputs, with the mapped properties named', async () => {
    const connector = hubspotConnector();
    try {
      const ids = contacts.map((c) => c.id).filter((id) => !broken.has(id));
      const found = await connector.lookup('Contact', 'id', ids);
      for (const id of ids) {
        const c = byId.get(id)!;
        expect(found.get(id)).toEqual([{ id, email: c.email, firstName: c.firstname }]);
      }
      expect(server.requests).toHaveLength(3);
      expect(sent().map((body) => body.inputs.length)).toEqual([100, 100, 99]);
      expect(sent()[0]).toEqual({ inputs: ids.slice(0, 100).map((id) => ({ id })), properties: ['email', 'firstname'] });
    } finally {
      await connector.close();
    }
  });

  it('on a 207, a key named OBJECT_NOT_FOUND finds nothing and a key named with another category fails alone', async () => {
    const connector = hubspotConnector();
    try {
      const found = await connector.lookup('Contact', 'id', ['1000', '7', '1005', '9', '1001']);
      expect(found.get('1000')).toEqual([expect.objectContaining({ id: '1000', email: 'c0@example.com' })]);
      expect(found.get('1001')).toEqual([expect.objectContaining({ id: '1001' })]);
      expect(found.get('7')).toEqual([]);
      expect(found.get('9')).toEqual([]);
      const failure = found.get('1005');
      expect(isSourceError(failure) && [failure.code, failure.message]).toEqual([
        'SOURCE_PARTIAL_FAILURE',
        'Source hubspot reported an error for Contact id "1005" (MISSING_SCOPES: This app lacks a scope for some contacts); the other values of the call were served',
      ]);
      expect(server.requests).toHaveLength(1);
    } finally {
      await connector.close();
    }
  });

  it('never answers a silent null: keys a 207 leaves unaccounted for fail, also when its errors name no key', async () => {
    // The mistake that used to answer nulls: the ids as a flat array.
    const flat = hubspotConnector((lookup) => {
      lookup.body = { inputs: '{values}', properties: '{properties}' };
    });
    try {
      const found = await flat.lookup('Contact', 'id', ['1000', '1001']);
      for (const id of ['1000', '1001']) {
        const failure = found.get(id);
        expect(isSourceError(failure) && failure.code).toBe('SOURCE_PARTIAL_FAILURE');
        expect(isSourceError(failure) && failure.message).toContain(`did not return Contact id "${id}" nor say it does not exist`);
      }
    } finally {
      await flat.close();
    }
    const connector = hubspotConnector();
    try {
      failAllUnnamed = true;
      const found = await connector.lookup('Contact', 'id', ['1000']);
      expect(isSourceError(found.get('1000')) && found.get('1000')).toMatchObject({ code: 'SOURCE_PARTIAL_FAILURE', status: 207 });
    } finally {
      await connector.close();
    }
  });
});

describe('Salesforce sObject Collections: an answer aligned with the ids sent', () => {
  function salesforceConnector(matchBy: 'position' | undefined): SourceConnector {
    return new SourceConnector(
      'salesforce',
      sourceDefinition.parse({
        baseUrl: server.origin,
        entities: {
          Contact: {
            key: 'id',
            fields: { id: 'Id', email: 'Email' },
            lookups: { id: { path: '/services/data/v59.0/composite/sobjects/Contact', query: { ids: '{values}', fields: 'Id,Email' }, unique: true, batch: { maxSize: 200 }, ...(matchBy ? { matchBy } : {}) } },
          },
        },
      }),
    );
  }

  it('matches each record to the id sent in its place, null where there is none', async () => {
    const connector = salesforceConnector('position');
    try {
      const found = await connector.lookup('Contact', 'id', ['1002', 'nope', '1003']);
      // Salesforce answers the 18-character form of a 15-character id: matched by place, not by value.
      expect(found.get('1002')).toEqual([{ id: '1002AAA', email: 'c2@example.com' }]);
      expect(found.get('1003')).toEqual([{ id: '1003AAA', email: 'c3@example.com' }]);
      expect(found.get('nope')).toEqual([]);
      expect(server.requests.map((r) => r.path)).toEqual(['/services/data/v59.0/composite/sobjects/Contact?ids=1002%2Cnope%2C1003&fields=Id%2CEmail']);
    } finally {
      await connector.close();
    }
    // Matched by value instead, the same answer finds nothing for those ids.
    const byValue = salesforceConnector(undefined);
    try {
      const found = await byValue.lookup('Contact', 'id', ['1002']);
      expect(found.get('1002')).toEqual([]);
    } finally {
      await byValue.close();
    }
  });
});
