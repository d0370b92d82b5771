import type { SandboxHandle } from '../../sources/sandbox/server';
import { supportDataset, type Requester, type Ticket } from '../../sources/support/data';
import { startSupport, SUPPORT_BASE_PATH } from '../../sources/support/server';
import { authorizedFetch, countsOf, sandboxToken } from './http';

let token = '';
const fetchJson = authorizedFetch(() => ({ authorization: `Bearer ${token}` }));

interface TicketList {
  tickets: Ticket[];
  count: number;
}
interface SupportError {
  error: string;
  description: string;
}

const data = supportDataset();
const ticket = (i: number): Ticket => data.tickets[i] as Ticket;
/** A requester whose stored email carries surrounding whitespace, and who has tickets. */
const messy = data.requesters.find((r) => r.email !== r.email.trim() && (data.ticketsByRequester.get(r.id)?.length ?? 0) > 1) as Requester;

describe('support sandbox', () => {
  let support: SandboxHandle;
  let base: string;
  beforeAll(async () => {
    support = await startSupport();
    base = `${support.url}${SUPPORT_BASE_PATH}`;
    token = await sandboxToken(support.url);
  });
  afterAll(() => support.close());
  beforeEach(() => support.resetStats());

  describe('GET /api/v2/tickets/{id}', () => {
    it('returns the ticket wrapped, with its requester email as stored', async () => {
      const reply = await fetchJson<{ ticket: Ticket }>(`${base}/tickets/${ticket(777).id}`);
      expect(reply.status).toBe(200);
      expect(reply.body).toEqual({ ticket: ticket(777) });
      expect(reply.body.ticket.requester.email).toBe(data.requesterById.get(ticket(777).requester.id)?.email);
    });

    it('answers unknown ids with 404 RecordNotFound and non-numeric ones with 400', async () => {
      const missing = await fetchJson<SupportError>(`${base}/tickets/1`);
      expect(missing.status).toBe(404);
      expect(missing.body.error).toBe('RecordNotFound');
      expect(typeof missing.body.description).toBe('string');
      expect((await fetchJson(`${base}/tickets/abc`)).status).toBe(400);
    });
  });

  describe('GET /api/v2/requesters/{id}', () => {
    it('returns the requester wrapped', async () => {
      const reply = await fetchJson<{ requester: Requester }>(`${base}/requesters/${messy.id}`);
      expect(reply.status).toBe(200);
      expect(reply.body).toEqual({ requester: messy });
    });

    it('answers unknown ids with 404 RecordNotFound', async () => {
      const missing = await fetchJson<SupportError>(`${base}/requesters/1`);
      expect(missing.status).toBe(404);
      expect(missing.body.error).toBe('RecordNotFound');
    });
  });

  describe('GET /api/v2/tickets?requester_email=', () => {
    it('matches the email case-insensitively after trimming, tickets sorted by id', async () => {
      const expected = data.ticketsByRequester.get(messy.id) ?? [];
      const asked = messy.email.trim().toLowerCase();
      const reply = await fetchJson<TicketList>(`${base}/tickets?requester_email=${encodeURIComponent(asked)}`);
      expect(reply.status).toBe(200);
      expect(reply.body).toEqual({ tickets: expected, count: expected.length });
      expect(reply.body.tickets.map((t) => t.id)).toEqual([...expected.map((t) => t.id)].sort((a, b) => a - b));
    });

    it('answers an unknown email with an empty list', async () => {
      const reply = await fetchJson<TicketList>(`${base}/tickets?requester_email=nobody%40nowhere.example`);
      expect(reply.status).toBe(200);
      expect(reply.body).toEqual({ tickets: [], count: 0 });
    });

    it.each([
      ['a comma', '?requester_email=a%40x.example,b%40y.example'],
      ['no parameter', ''],
      ['an empty value', '?requester_email=%20'],
      ['a repeated parameter', '?requester_email=a%40x.example&requester_email=b%40y.example'],
    ])('refuses %s with 400 InvalidParameter', async (_, query) => {
      const reply = await fetchJson<SupportError>(`${base}/tickets${query}`);
      expect(reply.status).toBe(400);
      expect(reply.body).toEqual({ error: 'InvalidParameter', description: 'requester_email takes exactly one email' });
    });
  });

  it('words unknown routes and wrong methods in Zendesk form', async () => {
    const missing = await fetchJson<SupportError>(`${base}/users/1`);
    expect(missing.status).toBe(404);
    expect(missing.body.error).toBe('InvalidEndpoint');
    const wrong = await fetchJson<SupportError>(`${base}/tickets/1`, { method: 'DELETE' });
    expect(wrong.status).toBe(405);
    expect(wrong.body.error).toBe('MethodNotAllowed');
  });

  it('counts requests by route template', async () => {
    await fetchJson(`${base}/tickets/${ticket(0).id}`);
    await fetchJson(`${base}/tickets?requester_email=a%40b.example`);
    await fetchJson(`${base}/tickets?requester_email=c%40d.example`);
    await fetchJson(`${base}/requesters/${messy.id}`);
    expect(countsOf(support)).toEqual({
      total: 4,
      byRoute: { 'GET /api/v2/tickets/{id}': 1, 'GET /api/v2/tickets': 2, 'GET /api/v2/requesters/{id}': 1 },
    });
  });
});
