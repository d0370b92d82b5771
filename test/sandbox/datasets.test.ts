import { createHash } from 'node:crypto';
import { CRM_CONTACT_COUNT, CRM_CONTACT_ID, crmDataset } from '../../sources/crm/data';
import { ORDER_COUNT, UNMAPPED_ACCOUNT_COUNT } from '../../sources/orders/data';
import { normalizeEmail } from '../../sources/sandbox/email';
import { sandboxDataset } from '../../sources/sandbox/index';
import { ORPHAN_REQUESTER_COUNT, TICKET_COUNT } from '../../sources/support/data';

const { crm, orders, support, crosswalk } = sandboxDataset();
const share = (part: number, whole: number): number => part / whole;

describe('sandbox datasets (seed 42)', () => {
  it('have the documented scale', () => {
    expect(crm.contacts).toHaveLength(CRM_CONTACT_COUNT);
    expect(CRM_CONTACT_COUNT).toBe(10_000);
    expect(orders.orders).toHaveLength(ORDER_COUNT);
    expect(ORDER_COUNT).toBe(50_000);
    expect(support.tickets).toHaveLength(TICKET_COUNT);
    expect(TICKET_COUNT).toBe(20_000);
  });

  it('are deterministic: the same seed regenerates equal data, another seed different data', () => {
    // A digest of the served records; jest's deep equality is too slow for 80,000 records.
    const digest = (data: ReturnType<typeof sandboxDataset>): string =>
      createHash('sha256')
        .update(JSON.stringify([data.crm.contacts, data.orders.accounts, data.orders.orders, data.crosswalk, data.support.requesters, data.support.tickets]))
        .digest('hex');
    jest.isolateModules(() => {
      // A fresh module registry means fresh memo caches: a real second generation.
      const again = (require('../../sources/sandbox/index') as typeof import('../../sources/sandbox/index')).sandboxDataset(42);
      expect(again.crm).not.toBe(crm);
      expect(digest(again)).toBe(digest(sandboxDataset()));
    });
    expect(sandboxDataset(42).orders).toBe(orders);
    expect(crmDataset(42)).toBe(crm);
    expect(crmDataset(7).contacts[0]).not.toEqual(crm.contacts[0]);
  });

  it('rejects a seed that is not a 32-bit unsigned integer', () => {
    expect(() => crmDataset(1.5)).toThrow(/seed must be an integer/);
    expect(() => crmDataset(-1)).toThrow(/seed/);
  });

  describe('CRM', () => {
    it('has unique 18-character Salesforce ids, sorted', () => {
      const ids = crm.contacts.map((c) => c.Id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids.filter((id) => !CRM_CONTACT_ID.test(id))).toEqual([]);
      expect([...ids].sort()).toEqual(ids);
    });

    it('has emails unique case-insensitively, about 5% in mixed case', () => {
      expect(crm.byEmail.size).toBe(crm.contacts.length);
      const mixed = crm.contacts.filter((c) => c.Email !== c.Email.toLowerCase()).length;
      expect(share(mixed, crm.contacts.length)).toBeGreaterThan(0.03);
      expect(share(mixed, crm.contacts.length)).toBeLessThan(0.07);
    });

    it('uses Salesforce shapes: attributes, raw segment codes, +0000 dates', () => {
      const odd = crm.contacts.filter(
        (c) =>
          c.attributes.type !== 'Contact' ||
          !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.000\+0000$/.test(c.CreatedDate) ||
          !c.Owner.Email.endsWith('@acme-sales.example'),
      );
      expect(odd).toEqual([]);
      expect(crm.contacts[0]).toEqual({
        attributes: { type: 'Contact' },
        Id: expect.any(String),
        Name: expect.any(String),
        Email: expect.any(String),
        Segment__c: expect.any(String),
        Owner: { Name: expect.any(String), Email: expect.any(String) },
        CreatedDate: expect.any(String),
      });
      expect([...new Set(crm.contacts.map((c) => c.Segment__c))].sort()).toEqual(['ENT', 'MM', 'SMB']);
    });
  });

  describe('orders', () => {
    const refsByCustomer = new Map<string, number[]>();
    for (const pair of crosswalk) refsByCustomer.set(pair.crmCustomerId, [...(refsByCustomer.get(pair.crmCustomerId) ?? []), pair.orderCustomerRef]);

    it('about 5% of customers have no account, about 2% two, the rest one', () => {
      const none = crm.contacts.filter((c) => !refsByCustomer.has(c.Id)).length;
      const two = [...refsByCustomer.values()].filter((refs) => refs.length === 2).length;
      expect(Math.max(...[...refsByCustomer.values()].map((refs) => refs.length))).toBe(2);
      expect(share(none, crm.contacts.length)).toBeGreaterThan(0.04);
      expect(share(none, crm.contacts.length)).toBeLessThan(0.06);
      expect(share(two, crm.contacts.length)).toBeGreaterThan(0.015);
      expect(share(two, crm.contacts.length)).toBeLessThan(0.025);
    });

    it('gives accounts six-digit refs, one currency per customer, in the documented mix', () => {
      expect(orders.accounts.filter((a) => !/^[1-9]\d{5}$/.test(String(a.ref)))).toEqual([]);
      expect(orders.accountByRef.size).toBe(orders.accounts.length);
      const mixedCurrencies = [...refsByCustomer.values()].filter(
        (refs) => new Set(refs.map((ref) => orders.accountByRef.get(ref)?.currency)).size !== 1,
      );
      expect(mixedCurrencies).toEqual([]);
      const usd = orders.accounts.filter((a) => a.currency === 'USD').length;
      const eur = orders.accounts.filter((a) => a.currency === 'EUR').length;
      expect(share(usd, orders.accounts.length)).toBeGreaterThan(0.65);
      expect(share(usd, orders.accounts.length)).toBeLessThan(0.75);
      expect(share(eur, orders.accounts.length)).toBeGreaterThan(0.16);
      expect(share(eur, orders.accounts.length)).toBeLessThan(0.24);
      // Refs do not follow CRM order: the crosswalk (sorted by CRM id) has refs in no order.
      const refs = crosswalk.map((p) => p.orderCustomerRef);
      expect(refs).not.toEqual([...refs].sort((a, b) => a - b));
    });

    it('has a few accounts that no CRM customer maps to', () => {
      expect(orders.accounts.length - crosswalk.length).toBe(UNMAPPED_ACCOUNT_COUNT);
    });

    it('puts every order on an existing account, with consistent totals and lines', () => {
      const now = Date.UTC(2026, 0, 1) / 1000;
      const threeYearsAgo = now - 3 * 365 * 86_400;
      const broken = orders.orders.filter((order, i) => {
        const account = orders.accountByRef.get(order.customer_ref);
        const previous = orders.orders[i - 1];
        return (
          account === undefined ||
          order.currency !== account.currency ||
          order.number !== `SO-${order.id}` ||
          order.lines.length < 1 ||
          order.lines.length > 5 ||
          order.total_minor !== order.lines.reduce((sum, l) => sum + l.qty * l.unit_price_minor, 0) ||
          order.created_at < threeYearsAgo ||
          order.created_at >= now ||
          (previous !== undefined && (previous.id >= order.id || previous.created_at > order.created_at))
        );
      });
      expect(broken).toEqual([]);
    });

    it('skews orders: some accounts have none, the busiest customer has dozens', () => {
      const zero = [...orders.ordersByRef.values()].filter((list) => list.length === 0).length;
      expect(zero).toBeGreaterThan(0);
      const perCustomer = [...refsByCustomer.values()].map((refs) =>
        refs.reduce((sum, ref) => sum + (orders.ordersByRef.get(ref)?.length ?? 0), 0),
      );
      const busiest = Math.max(...perCustomer);
      expect(busiest).toBeGreaterThanOrEqual(30);
      expect(busiest).toBeLessThanOrEqual(80);
    });
  });

  describe('support', () => {
    const crmByRequester = support.requesters.map((r) => crm.byEmail.get(normalizeEmail(r.email)));

    it('about 10% of CRM customers have no requester; about 200 requesters match no customer', () => {
      const matched = crmByRequester.filter((c) => c !== undefined).length;
      expect(share(crm.contacts.length - matched, crm.contacts.length)).toBeGreaterThan(0.08);
      expect(share(crm.contacts.length - matched, crm.contacts.length)).toBeLessThan(0.12);
      expect(support.requesters.length - matched).toBe(ORPHAN_REQUESTER_COUNT);
    });

    it('about 15% of matched requesters spell their email differently from the CRM, only in case or whitespace', () => {
      let matched = 0;
      let messy = 0;
      support.requesters.forEach((requester, i) => {
        const contact = crmByRequester[i];
        if (!contact) return;
        matched++;
        if (requester.email !== contact.Email) messy++;
      });
      expect(share(messy, matched)).toBeGreaterThan(0.12);
      expect(share(messy, matched)).toBeLessThan(0.18);
      expect(support.requesters.some((r) => r.email !== r.email.trim())).toBe(true);
    });

    it('has unique requester emails once normalized', () => {
      expect(support.requesterByEmail.size).toBe(support.requesters.length);
    });

    it('puts every ticket on an existing requester, with its stored email; every orphan has a ticket', () => {
      const broken = support.tickets.filter(
        (ticket) =>
          support.requesterById.get(ticket.requester.id)?.email !== ticket.requester.email ||
          !/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(ticket.created_at),
      );
      expect(broken).toEqual([]);
      const silentOrphans = support.requesters.filter(
        (requester, i) => crmByRequester[i] === undefined && (support.ticketsByRequester.get(requester.id)?.length ?? 0) === 0,
      );
      expect(silentOrphans).toEqual([]);
      const zero = [...support.ticketsByRequester.values()].filter((list) => list.length === 0).length;
      expect(zero).toBeGreaterThan(0);
    });
  });
});
