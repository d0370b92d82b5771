/**
 * What the gateway must answer, computed from the very data the sandboxes serve
 * (`sandboxDataset()`), through the same id mappings the config declares: the crosswalk for
 * orders, the trimmed and lower-cased email for tickets. Tests compare against these views and
 * never against hard-coded answers.
 */
import { normalizeEmail, sandboxDataset, type CrmContact, type Order, type Ticket } from '../../sources/sandbox';

export const data = sandboxDataset();

const SEGMENTS = { ENT: 'ENTERPRISE', MM: 'MID_MARKET', SMB: 'SMALL_BUSINESS' } as const;
const OPEN_STATUSES = new Set(['new', 'open', 'pending']);

/** Order account refs per CRM id, and the CRM id per ref (the crosswalk both ways). */
const refsByCustomer = new Map<string, number[]>();
const customerByRef = new Map<number, string>();
for (const pair of data.crosswalk) {
  const refs = refsByCustomer.get(pair.crmCustomerId);
  if (refs) refs.push(pair.orderCustomerRef);
  else refsByCustomer.set(pair.crmCustomerId, [pair.orderCustomerRef]);
  customerByRef.set(pair.orderCustomerRef, pair.crmCustomerId);
}

export interface ExpectedOrder {
  id: string;
  number: string;
  total: number;
  currency: string;
  status: string;
  placedAt: string;
}

export interface ExpectedTicket {
  id: string;
  subject: string;
  status: string;
  priority: string;
  openedAt: string;
}

export interface ExpectedCustomer {
  id: string;
  name: string;
  email: string;
  segment: string;
  /** Newest first. */
  orders: ExpectedOrder[];
  orderSummary: { count: number; totalSpent: number | null; currency: string | null; lastOrderAt: string | null };
  /** Newest first. */
  tickets: ExpectedTicket[];
  openTicketCount: number;
}

const iso = (epochSeconds: number) => new Date(epochSeconds * 1000).toISOString();
/** The support desk prints `2024-05-01 13:45:10` in UTC. */
const supportIso = (text: string) => new Date(`${text.replace(' ', 'T')}Z`).toISOString();

export function expectedOrder(order: Order): ExpectedOrder {
  return {
    id: String(order.id),
    number: order.number,
    total: order.total_minor / 100,
    currency: order.currency,
    status: order.status.toUpperCase(),
    placedAt: iso(order.created_at),
  };
}

export function expectedTicket(ticket: Ticket): ExpectedTicket {
  return {
    id: String(ticket.id),
    subject: ticket.subject,
    status: ticket.status.toUpperCase(),
    priority: ticket.priority.toUpperCase(),
    openedAt: supportIso(ticket.created_at),
  };
}

export function contact(id: string): CrmContact {
  const found = data.crm.byId.get(id);
  if (!found) throw new Error(`ground truth: no CRM contact ${id}`);
  return found;
}

/** The raw orders of a CRM customer over all their order accounts. */
export function rawOrdersOf(customerId: string): Order[] {
  return (refsByCustomer.get(customerId) ?? []).flatMap((ref) => data.orders.ordersByRef.get(ref) ?? []);
}

/** The raw tickets of the requester whose normalized email is the customer's. */
export function rawTicketsOf(customerId: string): Ticket[] {
  const requester = data.support.requesterByEmail.get(normalizeEmail(contact(customerId).Email));
  return requester ? [...(data.support.ticketsByRequester.get(requester.id) ?? [])] : [];
}

export function orderRefsOf(customerId: string): number[] {
  return refsByCustomer.get(customerId) ?? [];
}

/** The CRM customer an order account belongs to, or undefined for an unlinked account. */
export function customerIdOfRef(ref: number): string | undefined {
  return customerByRef.get(ref);
}

/** The CRM customer whose normalized email is the requester's, or undefined for an orphan. */
export function customerIdOfRequesterEmail(email: string): string | undefined {
  return data.crm.byEmail.get(normalizeEmail(email))?.Id;
}

const newestFirst = <T>(items: T[], at: (item: T) => string) => [...items].sort((a, b) => (at(a) < at(b) ? 1 : at(a) > at(b) ? -1 : 0));

export function expectedCustomer(customerId: string): ExpectedCustomer {
  const c = contact(customerId);
  const orders = newestFirst(rawOrdersOf(customerId).map(expectedOrder), (o) => o.placedAt);
  const tickets = newestFirst(rawTicketsOf(customerId).map(expectedTicket), (t) => t.openedAt);
  const currencies = new Set(orders.map((o) => o.currency));
  const minor = rawOrdersOf(customerId).reduce((sum, o) => sum + o.total_minor, 0);
  return {
    id: c.Id,
    name: c.Name,
    email: normalizeEmail(c.Email),
    segment: SEGMENTS[c.Segment__c],
    orders,
    orderSummary: {
      count: orders.length,
      // Amounts in several currencies have no total (the schema says null), as they have no one currency.
      totalSpent: orders.length === 0 || currencies.size !== 1 ? null : minor / 100,
      currency: currencies.size === 1 ? [...currencies][0]! : null,
      lastOrderAt: orders[0]?.placedAt ?? null,
    },
    tickets,
    openTicketCount: rawTicketsOf(customerId).filter((t) => OPEN_STATUSES.has(t.status)).length,
  };
}

/** CRM customers that have more than one order account (the one-to-many case). */
export const customersWithTwoAccounts = [...refsByCustomer].filter(([, refs]) => refs.length > 1).map(([id]) => id);
/** CRM customers with no order account. */
export const customersWithoutAccount = data.crm.contacts.filter((c) => !refsByCustomer.has(c.Id)).map((c) => c.Id);
/** CRM customers no support requester matches. */
export const customersWithoutRequester = data.crm.contacts
  .filter((c) => !data.support.requesterByEmail.has(normalizeEmail(c.Email)))
  .map((c) => c.Id);
/** CRM customers whose requester typed the email differently (case, surrounding white space). */
export const customersWithMessyEmail = data.crm.contacts
  .filter((c) => {
    const requester = data.support.requesterByEmail.get(normalizeEmail(c.Email));
    return requester !== undefined && requester.email !== c.Email;
  })
  .map((c) => c.Id);
/** Orders of accounts no CRM customer is linked to. */
export const ordersOfUnlinkedAccounts = data.orders.orders.filter((o) => !customerByRef.has(o.customer_ref));
/** Tickets of requesters whose email matches no CRM customer. */
export const ticketsOfOrphanRequesters = data.support.tickets.filter((t) => customerIdOfRequesterEmail(t.requester.email) === undefined);
