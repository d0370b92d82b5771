import type { FieldMapping } from '../config/definition';
import { isListTypeRef } from '../config/list-keys';
import { compileTransform, kindOf, TransformError, type Transform } from './transforms';

export type CanonicalRecord = Record<string, unknown>;

/** Why one raw record could not be mapped; the rest of its batch is served. */
export interface Rejection {
  field: string;
  from: string;
  /** For the log: the field's rule and the kind of value found (a string's length included), never the value. */
  reason: string;
  /** For the answer (`extensions.rejected`): `field: rule, kind of value`, with no length and no value. */
  summary: string;
  /** The raw code an enum transform does not map (the source's code, not a record's data): read by the dry run, never logged. */
  enumCode?: string;
}

export type MapResult = { ok: true; record: CanonicalRecord } | { ok: false; rejection: Rejection };

export type RecordMapper = (raw: unknown) => MapResult;

/** The raw path a field mapping reads; empty for a field with no mapping. */
export function fieldSource(mapping: FieldMapping | undefined): string {
  if (mapping === undefined) return '';
  return typeof mapping === 'string' ? mapping : mapping.from;
}

/** Reads a dot path (`Owner.Name`) from a raw payload; undefined when any step is missing. */
export function readPath(value: unknown, path: string): unknown {
  return readSteps(value, path.split('.'));
}

function readSteps(value: unknown, steps: readonly string[]): unknown {
  let current = value;
  for (const step of steps) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[step];
  }
  return current;
}

/**
 * `readPath` for one path, split once: a mapper reads every field of every record it maps, and
 * most paths are a single property.
 */
export function pathReader(path: string): (value: unknown) => unknown {
  const steps = path.split('.');
  if (steps.length > 1) return (value) => readSteps(value, steps);
  const property = steps[0]!;
  return (value) => (value === null || typeof value !== 'object' ? undefined : (value as Record<string, unknown>)[property]);
}

interface CompiledField {
  name: string;
  from: string;
  read: (raw: unknown) => unknown;
  required: boolean;
  convert: Transform | undefined;
}

function compileField(name: string, mapping: FieldMapping, required: boolean): CompiledField {
  if (typeof mapping === 'string') return { name, from: mapping, read: pathReader(mapping), required, convert: undefined };
  const transform = compileTransform(mapping.transform);
  const items = mapping.items ? compileRecordMapper(mapping.items.fields) : undefined;
  const convert: Transform | undefined = items
    ? (raw) => {
        if (!Array.isArray(raw)) throw new TransformError('an array', raw);
        return raw.map((element) => {
          const mapped = items(element);
          if (!mapped.ok) throw new TransformError(`${mapped.rejection.field} ${mapped.rejection.reason}`, element, { summary: `an item's ${mapped.rejection.summary}` });
          return mapped.record;
        });
      }
    : transform && mapping.type !== undefined && isListTypeRef(mapping.type)
      ? // A list of values (`type: '[ID!]'`) is transformed element by element; one value sent alone is a list of one.
        (raw) => (Array.isArray(raw) ? raw : [raw]).map((element: unknown) => (element === null || element === undefined ? null : transform(element)))
      : transform;
  return { name, from: mapping.from, read: pathReader(mapping.from), required: mapping.required ?? required, convert };
}

/**
 * Compiles a field mapping once into a function from a raw record to a canonical one. Missing
 * optional values become null; a missing required value or a value that fails its transform
 * rejects the record, naming the field and the rule it broke.
 */
export function compileRecordMapper(fields: Record<string, FieldMapping>, requiredFields: readonly string[] = []): RecordMapper {
  const compiled = Object.entries(fields).map(([name, mapping]) => compileField(name, mapping, requiredFields.includes(name)));
  return (raw) => {
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      return { ok: false, rejection: { field: '(record)', from: '(record)', reason: 'expected an object', summary: `(record): expected an object, found ${kindOf(raw, false)}` } };
    }
    const record: CanonicalRecord = {};
    for (const field of compiled) {
      const value = field.read(raw);
      if (value === undefined || value === null) {
        if (field.required) return { ok: false, rejection: { field: field.name, from: field.from, reason: 'is required but missing', summary: `${field.name}: required but missing` } };
        record[field.name] = null;
        continue;
      }
      if (field.convert === undefined) {
        record[field.name] = value;
        continue;
      }
      try {
        record[field.name] = field.convert(value);
      } catch (error) {
        if (!(error instanceof TransformError)) return { ok: false, rejection: { field: field.name, from: field.from, reason: String(error), summary: `${field.name}: could not be converted` } };
        const rejection: Rejection = { field: field.name, from: field.from, reason: error.message, summary: `${field.name}: ${error.summary}` };
        if (error.enumCode !== undefined) rejection.enumCode = error.enumCode;
        return { ok: false, rejection };
      }
    }
    return { ok: true, record };
  };
}
