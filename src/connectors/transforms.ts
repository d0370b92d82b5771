import type { TransformDefinition } from '../config/definition';

/**
 * A raw value that does not fit its transform; the record holding it is rejected on its own. The
 * message names the rule and the kind of value found, never the value: it reaches the log, and a
 * record's values are customer data (a name, an email, a token a source leaked into a field).
 */
export class TransformError extends Error {
  /** What an answer may say of it (`extensions.rejected`): the rule and the kind of value, not even its length. */
  readonly summary: string;

  constructor(
    readonly rule: string,
    value: unknown,
    options: {
      /** Said instead of `expected <rule>, found <kind>` (a nested mapping's own summary). */
      summary?: string;
      /** The code an enum transform does not map: the source's code, named by the dry run, never logged. */
      enumCode?: string;
    } = {},
  ) {
    super(`expected ${rule}, found ${kindOf(value)}`);
    this.summary = options.summary ?? `expected ${rule}, found ${kindOf(value, false)}`;
    this.enumCode = options.enumCode;
  }

  readonly enumCode: string | undefined;
}

/** The kind of a value; with `sized`, a string's length and an array's too (for the log, not for answers). */
export function kindOf(value: unknown, sized = true): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return value.length === 0 ? 'an empty string' : sized ? `a string of ${value.length} character${value.length === 1 ? '' : 's'}` : 'a string';
  if (typeof value === 'object') return Array.isArray(value) ? (sized ? `an array of ${value.length}` : 'an array') : 'an object';
  if (typeof value === 'number') return Number.isInteger(value) ? 'an integer' : Number.isFinite(value) ? 'a number' : 'a non-finite number';
  return `a ${typeof value}`;
}

export type Transform = (raw: unknown) => unknown;

/** Normalizes an email for comparison: surrounding white space removed, lower-cased. */
export function normalizeEmail(value: string): string {
  return value.trim().toLowerCase();
}

export type KeyNormalization = 'none' | 'email' | 'trim' | 'lowercase';

/**
 * How key values are made comparable before two systems' values meet. Emails differ between
 * systems in case and stray white space ("  Ada@Example.com " and "ada@example.com" are one person).
 */
export function normalizeKey(kind: KeyNormalization, value: string): string {
  switch (kind) {
    case 'none':
      return value;
    case 'trim':
      return value.trim();
    case 'lowercase':
      return value.toLowerCase();
    case 'email':
      return normalizeEmail(value);
  }
}

function toIso(ms: number, raw: unknown): string {
  const date = new Date(ms);
  if (Number.isNaN(date.getTime())) throw new TransformError('a valid date', raw);
  return date.toISOString();
}

/** `YYYY-MM-DD HH:mm[:ss[.fff]]` with no zone, as many help desks send it. */
const SPACED_DATE_TIME = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)$/;
/** A `+0000` offset without its colon, at the end. */
const COMPACT_OFFSET = /([+-]\d{2})(\d{2})$/;
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/;

/**
 * ISO-8601 and the variants that real APIs send: `+0000` offsets without a colon (Salesforce) and
 * `YYYY-MM-DD HH:mm:ss` without a zone, read as UTC (many help desks).
 */
export function parseDateTime(raw: unknown): string {
  if (typeof raw !== 'string') throw new TransformError('a date-time string', raw);
  const text = raw.trim();
  const spaced = SPACED_DATE_TIME.exec(text);
  // Rewritten as `YYYY-MM-DDTHH:mm:ssZ`, which is ISO-8601 by construction.
  if (spaced) return toIso(Date.parse(`${spaced[1]}T${spaced[2]}Z`), raw);
  const iso = text.replace(COMPACT_OFFSET, '$1:$2');
  if (!ISO_DATE_TIME.test(iso)) throw new TransformError('an ISO-8601 date-time', raw);
  return toIso(Date.parse(iso), raw);
}

function finiteNumber(raw: unknown, rule: string): number {
  const value = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new TransformError(rule, raw);
  return value;
}

const named: Record<Exclude<TransformDefinition, object>, Transform> = {
  string: (raw) => {
    if (typeof raw === 'string') return raw;
    if (typeof raw === 'number' || typeof raw === 'boolean') return String(raw);
    throw new TransformError('a string', raw);
  },
  id: (raw) => {
    if (typeof raw === 'string' && raw !== '') return raw;
    if (typeof raw === 'number' && Number.isInteger(raw)) return String(raw);
    throw new TransformError('an id (a non-empty string or an integer)', raw);
  },
  int: (raw) => {
    const value = finiteNumber(raw, 'an integer');
    if (!Number.isInteger(value)) throw new TransformError('an integer', raw);
    return value;
  },
  float: (raw) => finiteNumber(raw, 'a number'),
  boolean: (raw) => {
    if (typeof raw === 'boolean') return raw;
    throw new TransformError('a boolean', raw);
  },
  // Minor units are integers by definition; two decimals covers every ISO 4217 currency that
  // sandbox and real order systems send here (JPY and friends have 0 and stay exact).
  minorUnits: (raw) => {
    const value = finiteNumber(raw, 'an integer amount in minor units');
    if (!Number.isInteger(value)) throw new TransformError('an integer amount in minor units', raw);
    return value / 100;
  },
  epochSeconds: (raw) => toIso(finiteNumber(raw, 'seconds since the epoch') * 1000, raw),
  epochMillis: (raw) => toIso(finiteNumber(raw, 'milliseconds since the epoch'), raw),
  dateTime: parseDateTime,
  email: (raw) => {
    if (typeof raw !== 'string' || !raw.includes('@')) throw new TransformError('an email address', raw);
    return normalizeEmail(raw);
  },
};

/** How many of an enum's codes a rejection's reason names. */
const ENUM_CODES_NAMED = 12;

export function compileTransform(definition: TransformDefinition | undefined): Transform | undefined {
  if (definition === undefined) return undefined;
  if (typeof definition === 'string') return named[definition];
  const table = new Map<string, string>();
  for (const [raw, canonical] of Object.entries(definition.enum)) {
    table.set(definition.caseInsensitive ? raw.toLowerCase() : raw, canonical);
  }
  const codes = Object.keys(definition.enum);
  // Named in every rejection's reason: a long enum is cut short.
  const expected = `one of ${codes.slice(0, ENUM_CODES_NAMED).join(', ')}${codes.length > ENUM_CODES_NAMED ? `, ... (${codes.length} codes)` : ''}`;
  return (raw) => {
    if (typeof raw !== 'string') throw new TransformError(expected, raw);
    const found = table.get(definition.caseInsensitive ? raw.toLowerCase() : raw);
    if (found === undefined) throw new TransformError(expected, raw, { enumCode: raw });
    return found;
  };
}

/** The raw value a canonical enum value stands for, for filters pushed down to a source. */
export function reverseEnum(definition: TransformDefinition | undefined, canonical: string): string {
  if (definition === undefined || typeof definition === 'string') return canonical;
  for (const [raw, value] of Object.entries(definition.enum)) if (value === canonical) return raw;
  return canonical;
}
