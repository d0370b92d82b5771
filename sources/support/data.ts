/**
 * The support desk's requesters and tickets (Zendesk-flavoured): 20,000 tickets, generated from a
 * seed.
 *
 * The desk shares no id with the CRM: the only link is the email, and the desk stores it as the
 * requester typed it. About 90% of CRM customers are requesters, about 15% of those with an email
 * that differs from the CRM's in case and/or surrounding whitespace, and about 200 requesters match
 * no CRM customer at all (each with at least one ticket).
 */
import { crmDataset } from '../crm/data';
import { DAY_SECONDS, SANDBOX_NOW, YEAR_SECONDS } from '../sandbox/clock';
import { normalizeEmail } from '../sandbox/email';
import { memoizeBySeed } from '../sandbox/memo';
import { emailLocalPart, FIRST_NAMES, LAST_NAMES } from '../sandbox/names';
import { allocate, createRandom, streamSeed, type Random } from '../sandbox/random';

export type TicketStatus = 'new' | 'open' | 'pending' | 'solved' | 'closed';
export type TicketPriority = 'low' | 'normal' | 'high' | 'urgent';

/** A requester exactly as the desk's API returns it. */
export interface Requester {
  readonly id: number;
  readonly name: string;
  /** As typed: may differ from the CRM's in case and surrounding whitespace. */
  readonly email: string;
}

/** A ticket exactly as the desk's API returns it. */
export interface Ticket {
  readonly id: number;
  readonly subject: string;
  readonly status: TicketStatus;
  readonly priority: TicketPriority;
  /** UTC, `2024-05-01 13:45:10`. */
  readonly created_at: string;
  readonly requester: { readonly id: number; readonly email: string };
}

export interface SupportDataset {
  readonly seed: number;
  /** Sorted by `id`. */
  readonly requesters: readonly Requester[];
  /** Sorted by `id`, which also orders them by `created_at`. */
  readonly tickets: readonly Ticket[];
  readonly requesterById: ReadonlyMap<number, Requester>;
  /** Keyed by `normalizeEmail(email)`; requester emails are unique in that form. */
  readonly requesterByEmail: ReadonlyMap<string, Requester>;
  readonly ticketById: ReadonlyMap<number, Ticket>;
  /** Every requester has an entry (possibly empty), each sorted by ticket id. */
  readonly ticketsByRequester: ReadonlyMap<number, readonly Ticket[]>;
}

export const TICKET_COUNT = 20_000;
/** Requesters whose email matches no CRM customer. */
export const ORPHAN_REQUESTER_COUNT = 200;
export const FIRST_REQUESTER_ID = 7_001;
export const FIRST_TICKET_ID = 90_001;

const NO_REQUESTER_SHARE = 0.1;
const MESSY_EMAIL_SHARE = 0.15;
const ZERO_TICKET_SHARE = 0.12;
/** No CRM email uses this domain, which keeps orphans from matching anyone by accident. */
const ORPHAN_DOMAIN = 'freemail.example';
const TICKETS_FROM = SANDBOX_NOW - 3 * YEAR_SECONDS;

const SUBJECTS: readonly string[] = [
  'Cannot log in to the customer portal',
  'Password reset email never arrives',
  'Invoice is missing our VAT number',
  'Charged twice for the same order',
  'Package arrived damaged',
  'Where is my order?',
  'Request a refund for a cancelled order',
  'How do I change my billing address?',
  'Add a second user to our account',
  'Export of last year\'s invoices',
  'Wrong item delivered',
  'Discount code not applied at checkout',
  'Delivery address needs updating',
  'API returns 500 on bulk upload',
  'Question about enterprise pricing',
  'Cancel my subscription',
  'Shipping to Norway: customs fees?',
  'Tracking number does not work',
  'Need a copy of the signed contract',
  'Two-factor codes not accepted',
  'Item out of stock for weeks',
  'Feature request: dark mode',
  'Report: order confirmation in the wrong language',
  'Bank transfer not matched to invoice',
];

export const supportDataset = memoizeBySeed(generateSupport);

function generateSupport(seed: number): SupportDataset {
  const rng = createRandom(streamSeed(seed, 'support'));
  const drafts = generateRequesters(rng, seed);
  const tickets = generateTickets(rng, drafts);
  const requesters = drafts.map((d) => d.requester);

  const ticketsByRequester = new Map<number, Ticket[]>(requesters.map((r) => [r.id, []]));
  for (const ticket of tickets) ticketsByRequester.get(ticket.requester.id)?.push(ticket);
  return {
    seed,
    requesters,
    tickets,
    requesterById: new Map(requesters.map((r) => [r.id, r])),
    requesterByEmail: new Map(requesters.map((r) => [normalizeEmail(r.email), r])),
    ticketById: new Map(tickets.map((t) => [t.id, t])),
    ticketsByRequester,
  };
}

/** A requester and whether no CRM customer matches it (kept out of the served record). */
interface RequesterDraft {
  readonly requester: Requester;
  readonly orphan: boolean;
}

/** Ids follow a shuffle, so a requester id says nothing about CRM order. */
function generateRequesters(rng: Random, seed: number): RequesterDraft[] {
  const people: Array<{ name: string; email: string; orphan: boolean }> = [];
  for (const contact of crmDataset(seed).contacts) {
    if (rng.chance(NO_REQUESTER_SHARE)) continue;
    const email = rng.chance(MESSY_EMAIL_SHARE) ? messyEmail(rng, contact.Email) : contact.Email;
    people.push({ name: contact.Name, email, orphan: false });
  }
  const orphanEmails = new Set<string>();
  while (orphanEmails.size < ORPHAN_REQUESTER_COUNT) {
    const first = rng.pick(FIRST_NAMES);
    const last = rng.pick(LAST_NAMES);
    const email = `${emailLocalPart(first)}.${emailLocalPart(last)}${rng.int(1, 999)}@${ORPHAN_DOMAIN}`;
    if (orphanEmails.has(email)) continue;
    orphanEmails.add(email);
    people.push({ name: `${first} ${last}`, email, orphan: true });
  }
  return rng.shuffle(people).map(({ name, email, orphan }, i) => ({
    requester: { id: FIRST_REQUESTER_ID + i, name, email },
    orphan,
  }));
}

/**
 * The CRM email as a person might retype it: another case, stray spaces around it, or both.
 * Always different from the CRM's spelling, always equal to it once normalized.
 */
function messyEmail(rng: Random, crmEmail: string): string {
  const recased = rng.weighted<(email: string) => string>([
    [(e) => e, 30],
    [(e) => e.toUpperCase(), 15],
    [(e) => e.replace(/(^|[.@])([a-z])/g, (_, sep: string, letter: string) => sep + letter.toUpperCase()), 35],
    [(e) => e.toLowerCase(), 20],
  ])(crmEmail);
  const padded = rng.weighted<(email: string) => string>([
    [(e) => e, 40],
    [(e) => `  ${e} `, 25],
    [(e) => ` ${e}`, 15],
    [(e) => `${e}\t`, 20],
  ])(recased);
  // When neither change altered anything, trailing whitespace still makes it differ.
  return padded === crmEmail ? `${crmEmail} ` : padded;
}

function generateTickets(rng: Random, requesters: readonly RequesterDraft[]): Ticket[] {
  const weights = requesters.map((r) => (!r.orphan && rng.chance(ZERO_TICKET_SHARE) ? 0 : Math.min(Math.exp(rng.normal()), 8)));
  // Every orphan gets one ticket up front: an orphan requester exists because someone wrote in.
  const orphanCount = requesters.filter((r) => r.orphan).length;
  const perRequester = allocate(rng, weights, TICKET_COUNT - orphanCount).map((n, i) => n + (requesters[i]?.orphan ? 1 : 0));

  const drafts: Array<{ requester: Requester; createdAt: number }> = [];
  requesters.forEach(({ requester }, i) => {
    for (let n = 0; n < (perRequester[i] as number); n++) {
      drafts.push({ requester, createdAt: rng.int(TICKETS_FROM, SANDBOX_NOW - 1) });
    }
  });
  drafts.sort((a, b) => a.createdAt - b.createdAt || a.requester.id - b.requester.id);

  return drafts.map(({ requester, createdAt }, index) => ({
    id: FIRST_TICKET_ID + index,
    subject: rng.pick(SUBJECTS),
    status: ticketStatus(rng, SANDBOX_NOW - createdAt),
    priority: rng.weighted<TicketPriority>([['low', 25], ['normal', 55], ['high', 15], ['urgent', 5]]),
    created_at: zendeskDateTime(createdAt),
    requester: { id: requester.id, email: requester.email },
  }));
}

/** Fresh tickets are still being worked; old ones are solved or closed. */
function ticketStatus(rng: Random, ageSeconds: number): TicketStatus {
  if (ageSeconds < 2 * DAY_SECONDS) {
    return rng.weighted<TicketStatus>([['new', 40], ['open', 40], ['pending', 20]]);
  }
  if (ageSeconds < 14 * DAY_SECONDS) {
    return rng.weighted<TicketStatus>([['new', 5], ['open', 35], ['pending', 25], ['solved', 35]]);
  }
  return rng.weighted<TicketStatus>([['solved', 20], ['closed', 80]]);
}

/** `2024-05-01 13:45:10`, UTC, no zone marker: how this desk's API prints times. */
function zendeskDateTime(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString().slice(0, 19).replace('T', ' ');
}
