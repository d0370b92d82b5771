import type { Readable } from 'node:stream';
import { createInterface } from 'node:readline';
import { CrosswalkFileError } from './crosswalk-file';

export type CrosswalkFormat = 'csv' | 'ndjson';

/** One data row of an uploaded crosswalk: its pair, or why it cannot be one. Lines count from 1, the header included. */
export type CrosswalkRow = { line: number; pair: [string, string] } | { line: number; error: string };

export interface CrosswalkRowsOptions {
  format: CrosswalkFormat;
  /**
   * The from and to columns: CSV header names, or NDJSON keys. Default: the first two columns of
   * a CSV; `from` and `to` (or a two-element array per line) in NDJSON.
   */
  columns?: readonly [string, string];
}

/** Longest id accepted in a crosswalk; longer values are rows gone wrong, not ids. */
const MAX_VALUE_LENGTH = 256;

/**
 * Splits one CSV line (RFC 4180 quoting, without line breaks inside fields: ids have none), or
 * says why it cannot. Line-based on purpose: a broken row is rejected alone, with its line number,
 * instead of swallowing the rest of the file.
 */
function splitCsvLine(line: string): string[] | string {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    if (line[i] === '"') {
      let value = '';
      i += 1;
      for (;;) {
        const quote = line.indexOf('"', i);
        if (quote === -1) return 'a quoted field is not closed';
        value += line.slice(i, quote);
        if (line[quote + 1] === '"') {
          value += '"';
          i = quote + 2;
          continue;
        }
        i = quote + 1;
        break;
      }
      fields.push(value);
      if (i === line.length) return fields;
      if (line[i] !== ',') return `unexpected text after a quoted field at column ${i + 1}`;
      i += 1;
    } else {
      const comma = line.indexOf(',', i);
      fields.push(comma === -1 ? line.slice(i) : line.slice(i, comma));
      if (comma === -1) return fields;
      i = comma + 1;
    }
  }
}

/** Why a value cannot be an id, or undefined. */
function badValue(value: unknown, column: string): string | undefined {
  if (typeof value !== 'string' && typeof value !== 'number') return `"${column}" is ${value === undefined || value === null ? 'missing' : `not text (${typeof value})`}`;
  const text = String(value).trim();
  if (text === '') return `"${column}" is empty`;
  if (text.length > MAX_VALUE_LENGTH) return `"${column}" is ${text.length} characters long (at most ${MAX_VALUE_LENGTH})`;
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  if (/[\u0000-\u001f\u007f]/.test(text)) return `"${column}" holds control characters`;
  return undefined;
}

function row(line: number, from: unknown, to: unknown, columns: readonly [string, string]): CrosswalkRow {
  const error = badValue(from, columns[0]) ?? badValue(to, columns[1]);
  return error ? { line, error } : { line, pair: [String(from).trim(), String(to).trim()] };
}

/**
 * Reads an uploaded crosswalk one line at a time (never the whole file), yielding each data row
 * as a pair or as a rejection. A CSV without the named columns is refused as a whole, before any
 * row is read.
 */
export async function* crosswalkRows(input: Readable, options: CrosswalkRowsOptions): AsyncGenerator<CrosswalkRow> {
  const lines = createInterface({ input, crlfDelay: Infinity });
  let lineNumber = 0;
  let indexes: [number, number] | undefined;
  let columns: readonly [string, string] = options.columns ?? ['from', 'to'];
  for await (const raw of lines) {
    lineNumber += 1;
    const line = lineNumber === 1 ? raw.replace(/^\uFEFF/, '') : raw;
    if (line.trim() === '') continue;
    if (options.format === 'ndjson') {
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        yield { line: lineNumber, error: 'not valid JSON' };
        continue;
      }
      if (Array.isArray(value)) yield value.length === 2 ? row(lineNumber, value[0], value[1], columns) : { line: lineNumber, error: `an array of ${value.length} items (expected 2)` };
      else if (value !== null && typeof value === 'object') yield row(lineNumber, (value as Record<string, unknown>)[columns[0]], (value as Record<string, unknown>)[columns[1]], columns);
      else yield { line: lineNumber, error: `expected an object with "${columns[0]}" and "${columns[1]}", or a pair` };
      continue;
    }
    const fields = splitCsvLine(line);
    if (!indexes) {
      if (typeof fields === 'string') throw new CrosswalkFileError(`line ${lineNumber}: the header cannot be read (${fields})`);
      const names = fields.map((name) => name.trim());
      if (!options.columns) {
        if (names.length < 2) throw new CrosswalkFileError(`line ${lineNumber}: the header names ${names.length} column; a crosswalk needs two`);
        columns = [names[0]!, names[1]!];
      }
      const found: [number, number] = [names.indexOf(columns[0]), names.indexOf(columns[1])];
      if (found[0] === -1 || found[1] === -1) {
        throw new CrosswalkFileError(`the header has ${names.map((name) => `"${name}"`).join(', ')}; the crosswalk needs "${columns[0]}" and "${columns[1]}" (pass the right columns)`);
      }
      indexes = found;
      continue;
    }
    if (typeof fields === 'string') yield { line: lineNumber, error: fields };
    else yield row(lineNumber, fields[indexes[0]], fields[indexes[1]], columns);
  }
}
