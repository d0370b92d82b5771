import { crmDataset, type CrmContact } from '../../sources/crm/data';
import { CRM_BASE_PATH, startCrm } from '../../sources/crm/server';
import type { SandboxHandle } from '../../sources/sandbox/server';
import { UNMATCHED_ROUTE } from '../../sources/sandbox/stats';
import { authorizedFetch, countsOf, CRM_KEY } from './http';

const fetchJson = authorizedFetch(() => CRM_KEY);

interface RecordList {
  records: CrmContact[];
}
interface QueryPage extends RecordList {
  totalSize: number;
  done: boolean;
  nextRecordsCursor: string | null;
}
type ErrorList = Array<{ errorCode: string; message: string }>;

const data = crmDataset();
const byIdOrder = (a: CrmContact, b: CrmContact): number => (a.Id < b.Id ? -1 : a.Id > b.Id ? 1 : 0);
const contact = (i: number): CrmContact => data.contacts[i] as CrmContact;

describe('CRM sandbox', () => {
  let crm: SandboxHandle;
  let base: string;
  beforeAll(async () => {
    crm = await startCrm();
    base = `${crm.url}${CRM_BASE_PATH}`;
  });
  afterAll(() => crm.close());
  beforeEach(() => crm.resetStats());

  describe('GET /sobjects/Contact/{id}', () => {
    it('returns the raw record', async () => {
      const reply = await fetchJson<CrmContact>(`${base}/sobjects/Contact/${contact(123).Id}`);
      expect(reply.status).toBe(200);
      expect(reply.body).toEqual(contact(123));
    });

    it('answers an unknown id with 404 NOT_FOUND', async () => {
      const reply = await fetchJson<ErrorList>(`${base}/sobjects/Contact/003000000000000AAA`);
      expect(reply.status).toBe(404);
      expect(reply.body).toEqual([{ errorCode: 'NOT_FOUND', message: 'The requested resource does not exist' }]);
    });
  });

  describe('GET /composite/sobjects/Contact', () => {
    it('returns only the records found, each once, sorted by Id rather than as asked', async () => {
      const asked = [contact(900), contact(5), contact(4000)];
      const ids = [asked[0]?.Id, '003NOPE000000000AA', asked[1]?.Id, asked[2]?.Id, asked[0]?.Id];
      const reply = await fetchJson<RecordList>(`${base}/composite/sobjects/Contact?ids=${ids.join(',')}`);
      expect(reply.status).toBe(200);
      expect(reply.body.records).toEqual([...asked].sort(byIdOrder));
    });

    it('takes up to 100 ids and refuses more with BATCH_TOO_LARGE', async () => {
      const ids = data.contacts.slice(0, 101).map((c) => c.Id);
      const hundred = await fetchJson<RecordList>(`${base}/composite/sobjects/Contact?ids=${ids.slice(0, 100).join(',')}`);
      expect(hundred.body.records).toHaveLength(100);
      const tooMany = await fetchJson<ErrorList>(`${base}/composite/sobjects/Contact?ids=${ids.join(',')}`);
      expect(tooMany.status).toBe(400);
      expect(tooMany.body[0]?.errorCode).toBe('BATCH_TOO_LARGE');
    });

    it('requires ids', async () => {
      const reply = await fetchJson<ErrorList>(`${base}/composite/sobjects/Contact`);
      expect(reply.status).toBe(400);
      expect(reply.body[0]?.errorCode).toBe('MISSING_ARGUMENT');
    });
  });

  describe('GET /search/Contact', () => {
    it('matches emails case-insensitively after trimming and returns only the records found', async () => {
      const a = contact(10);
      const b = contact(20);
      const emails = [`  ${a.Email.toUpperCase()} `, 'nobody@nowhere.example', b.Email];
      const reply = await fetchJson<RecordList>(`${base}/search/Contact?emails=${encodeURIComponent(emails.join(','))}`);
      expect(reply.status).toBe(200);
      expect([...reply.body.records].sort(byIdOrder)).toEqual([a, b].sort(byIdOrder));
    });

    it('finds contacts whose stored email is in mixed case', async () => {
      const mixed = data.contacts.find((c) => c.Email !== c.Email.toLowerCase()) as CrmContact;
      const reply = await fetchJson<RecordList>(`${base}/search/Contact?emails=${encodeURIComponent(mixed.Email.toLowerCase())}`);
      expect(reply.body.records).toEqual([mixed]);
    });

    it('refuses more than 100 emails and a missing list', async () => {
      const emails = data.contacts.slice(0, 101).map((c) => encodeURIComponent(c.Email));
      const tooMany = await fetchJson<ErrorList>(`${base}/search/Contact?emails=${emails.join(',')}`);
      expect(tooMany.status).toBe(400);
      expect(tooMany.body[0]?.errorCode).toBe('BATCH_TOO_LARGE');
      expect((await fetchJson(`${base}/search/Contact?emails=`)).status).toBe(400);
    });
  });

  describe('GET /query/Contact', () => {
    it('pages 50 by default, in Id order, with the total count', async () => {
      const reply = await fetchJson<QueryPage>(`${base}/query/Contact`);
      expect(reply.status).toBe(200);
      expect(reply.body.totalSize).toBe(10_000);
      expect(reply.body.done).toBe(false);
      expect(reply.body.records).toEqual(data.contacts.slice(0, 50));
      expect(typeof reply.body.nextRecordsCursor).toBe('string');
    });

    it('walks every contact of a segment exactly once by following the cursor', async () => {
      const expected = data.contacts.filter((c) => c.Segment__c === 'ENT');
      const seen: CrmContact[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const query: string = `limit=200&segment=ENT${cursor === null ? '' : `&cursor=${cursor}`}`;
        const page: QueryPage = (await fetchJson<QueryPage>(`${base}/query/Contact?${query}`)).body;
        expect(page.totalSize).toBe(expected.length);
        seen.push(...page.records);
        cursor = page.nextRecordsCursor;
        pages++;
        if (page.done) expect(cursor).toBeNull();
      } while (cursor !== null);
      expect(seen).toEqual(expected);
      expect(pages).toBe(Math.ceil(expected.length / 200));
    });

    it('treats an unknown segment as a filter that matches nothing', async () => {
      const reply = await fetchJson<QueryPage>(`${base}/query/Contact?segment=GOV`);
      expect(reply.body).toEqual({ totalSize: 0, done: true, nextRecordsCursor: null, records: [] });
    });

    it.each(['201', '0', '-1', 'ten', '1.5'])('refuses limit=%s', async (limit) => {
      const reply = await fetchJson<ErrorList>(`${base}/query/Contact?limit=${limit}`);
      expect(reply.status).toBe(400);
      expect(reply.body[0]?.errorCode).toBe('MALFORMED_QUERY');
    });

    it.each(['garbage!', 'AAAA', Buffer.from('not-an-id').toString('base64url'), ''])('refuses cursor %p with INVALID_CURSOR', async (cursor) => {
      const reply = await fetchJson<ErrorList>(`${base}/query/Contact?cursor=${cursor}`);
      expect(reply.status).toBe(400);
      expect(reply.body[0]?.errorCode).toBe('INVALID_CURSOR');
    });
  });

  it('words unknown routes and wrong methods in Salesforce form', async () => {
    const missing = await fetchJson<ErrorList>(`${base}/sobjects/Account/001`);
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual([{ errorCode: 'NOT_FOUND', message: 'The requested resource does not exist' }]);
    const wrong = await fetchJson<ErrorList>(`${base}/sobjects/Contact/${contact(0).Id}`, { method: 'DELETE' });
    expect(wrong.status).toBe(405);
    expect(wrong.body[0]?.errorCode).toBe('METHOD_NOT_ALLOWED');
  });

  it('counts requests by route template', async () => {
    await fetchJson(`${base}/sobjects/Contact/${contact(1).Id}`);
    await fetchJson(`${base}/sobjects/Contact/${contact(2).Id}`);
    await fetchJson(`${base}/composite/sobjects/Contact?ids=${contact(3).Id}`);
    await fetchJson(`${base}/search/Contact?emails=x@y.example`);
    await fetchJson(`${base}/query/Contact?limit=1`);
    await fetchJson(`${base}/nope`);
    await fetchJson(`${crm.url}/_sandbox/stats`);
    expect(countsOf(crm)).toEqual({
      total: 6,
      byRoute: {
        [`GET ${CRM_BASE_PATH}/sobjects/Contact/{id}`]: 2,
        [`GET ${CRM_BASE_PATH}/composite/sobjects/Contact`]: 1,
        [`GET ${CRM_BASE_PATH}/search/Contact`]: 1,
        [`GET ${CRM_BASE_PATH}/query/Contact`]: 1,
        [UNMATCHED_ROUTE]: 1,
      },
    });
  });
});
