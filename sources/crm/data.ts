/**
 * The CRM's contacts (Salesforce-flavoured): 10,000 of them, generated from a seed.
 *
 * Quirks kept on purpose: 18-character Salesforce ids with their case-safe checksum suffix,
 * `CreatedDate` with a `+0000` offset (no colon), segment stored as a raw code, and about 5% of
 * emails typed in mixed case (unique only case-insensitively).
 */
import { SANDBOX_NOW, utcSeconds } from '../sandbox/clock';
import { normalizeEmail } from '../sandbox/email';
import { memoizeBySeed } from '../sandbox/memo';
import { COMPANY_WORDS, emailLocalPart, FIRST_NAMES, LAST_NAMES } from '../sandbox/names';
import { createRandom, streamSeed, type Random } from '../sandbox/random';

export type CrmSegment = 'ENT' | 'MM' | 'SMB';

/** A contact exactly as the CRM's API returns it. */
export interface CrmContact {
  readonly attributes: { readonly type: 'Contact' };
  /** 18 characters: `003` key prefix, instance, sequence, 3-character checksum. */
  readonly Id: string;
  readonly Name: string;
  /** As typed: unique case-insensitively, about 5% in mixed case. */
  readonly Email: string;
  readonly Segment__c: CrmSegment;
  readonly Owner: { readonly Name: string; readonly Email: string };
  /** `2021-03-04T10:15:00.000+0000`. */
  readonly CreatedDate: string;
}

export interface CrmDataset {
  readonly seed: number;
  /** Sorted by `Id` in code-unit order (`<`), the order the query endpoint pages in. */
  readonly contacts: readonly CrmContact[];
  readonly byId: ReadonlyMap<string, CrmContact>;
  /** Keyed by `normalizeEmail(Email)`. */
  readonly byEmail: ReadonlyMap<string, CrmContact>;
}

export const CRM_CONTACT_COUNT = 10_000;
export const CRM_SEGMENTS: readonly CrmSegment[] = ['ENT', 'MM', 'SMB'];

/** Shape of a contact id; anything else cannot name a contact. */
export const CRM_CONTACT_ID = /^003[0-9A-Za-z]{15}$/;

const SEGMENT_WEIGHTS: ReadonlyArray<readonly [CrmSegment, number]> = [
  ['ENT', 15],
  ['MM', 35],
  ['SMB', 50],
];

const OWNERS: ReadonlyArray<{ readonly Name: string; readonly Email: string }> = [
  'Grace Hopper', 'Alan Kay', 'Frances Allen', 'Vint Cerf', 'Karen Spärck Jones', 'Leslie Lamport',
  'Adele Goldberg', 'Butler Lampson', 'Jean Sammet', 'Ivan Sutherland', 'Evelyn Berezin', 'Bob Kahn',
].map((name) => ({ Name: name, Email: `${emailLocalPart(name.split(' ')[0] as string)}@acme-sales.example` }));

const GENERIC_DOMAINS: readonly string[] = ['example.com', 'example.org', 'example.net', 'mail.example'];
const MIXED_CASE_SHARE = 0.05;
const ID_PREFIX = '0035e00000';
const ID_CHARS: readonly string[] = [...'0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'];
const CREATED_FROM = utcSeconds(2018, 1, 1);

export const crmDataset = memoizeBySeed(generateCrm);

function generateCrm(seed: number): CrmDataset {
  const rng = createRandom(streamSeed(seed, 'crm'));
  const ids = new Set<string>();
  const emails = new Set<string>();
  const contacts: CrmContact[] = [];

  while (contacts.length < CRM_CONTACT_COUNT) {
    const id = contactId(rng);
    if (ids.has(id)) continue;
    ids.add(id);
    const first = rng.pick(FIRST_NAMES);
    const last = rng.pick(LAST_NAMES);
    const email = uniqueEmail(rng, first, last, emails);
    contacts.push({
      attributes: { type: 'Contact' },
      Id: id,
      Name: `${first} ${last}`,
      Email: rng.chance(MIXED_CASE_SHARE) ? mixedCase(email) : email,
      Segment__c: rng.weighted(SEGMENT_WEIGHTS),
      Owner: rng.pick(OWNERS),
      CreatedDate: salesforceDateTime(rng.int(CREATED_FROM, SANDBOX_NOW - 1)),
    });
  }

  contacts.sort((a, b) => (a.Id < b.Id ? -1 : a.Id > b.Id ? 1 : 0));
  return {
    seed,
    contacts,
    byId: new Map(contacts.map((c) => [c.Id, c])),
    byEmail: new Map(contacts.map((c) => [normalizeEmail(c.Email), c])),
  };
}

/**
 * A 15-character id made 18 with Salesforce's case-safe suffix: for each 5-character chunk, a
 * bit per upper-case letter, spelled in `A-Z0-5`. Real ids carry it, so clients that validate
 * ids accept these.
 */
function contactId(rng: Random): string {
  let id15 = ID_PREFIX;
  while (id15.length < 15) id15 += rng.pick(ID_CHARS);
  let suffix = '';
  for (let chunk = 0; chunk < 3; chunk++) {
    let flags = 0;
    for (let i = 0; i < 5; i++) {
      const c = id15.charCodeAt(chunk * 5 + i);
      if (c >= 65 && c <= 90) flags |= 1 << i;
    }
    suffix += 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345'.charAt(flags);
  }
  return id15 + suffix;
}

/** `first.last@domain`, with a number appended when that address is taken. Lower case. */
function uniqueEmail(rng: Random, first: string, last: string, taken: Set<string>): string {
  const domain = rng.chance(0.3) ? rng.pick(GENERIC_DOMAINS) : `${rng.pick(COMPANY_WORDS)}.example`;
  const local = `${emailLocalPart(first)}.${emailLocalPart(last)}`;
  let email = `${local}@${domain}`;
  for (let n = 2; taken.has(email); n++) email = `${local}${n}@${domain}`;
  taken.add(email);
  return email;
}

/** `ada.lovelace@acme.example` -> `Ada.Lovelace@Acme.example`: what people type into forms. */
function mixedCase(email: string): string {
  return email.replace(/(^|[.@])([a-z])/g, (_, sep: string, letter: string) => sep + letter.toUpperCase());
}

/** Salesforce's dateTime form: milliseconds and a `+0000` offset without a colon. */
function salesforceDateTime(epochSeconds: number): string {
  return `${new Date(epochSeconds * 1000).toISOString().slice(0, 23)}+0000`;
}
