import { createInterface } from 'node:readline';
import { Transform, type Readable } from 'node:stream';
import { CsvError, parse } from 'csv-parse';
import { CODES, VirtualizeError } from '../errors';

export type CrosswalkFormat = 'csv' | 'ndjson';

/** One data row of a crosswalk: its pair, or why it cannot be one. Lines count from 1, the header included. */
export type CrosswalkRow = { line: number; pair: [string, string] } | { line: number; error: string };

/** A crosswalk that cannot be read at all: no usable header, or CSV whose records cannot be told apart. */
export class CrosswalkFileError extends VirtualizeError<typeof CODES.INVALID_CROSSWALK> {
  constructor(message: string) {
    super(CODES.INVALID_CROSSWALK, message);
  }
}

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
 * Longest record read: characters of a CSV record, bytes of an NDJSON line. A crosswalk row is two
 * ids and perhaps a few more columns; a record this long is an unclosed quote swallowing the lines
 * after it, or not a crosswalk at all, and without a bound it would be buffered whole.
 */
export const MAX_RECORD_LENGTH = 16_384;

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
 * Reads a crosswalk (a file named in the configuration, or an upload) without ever holding it
 * whole, yielding each data row as a pair or as a rejection. A CSV without the named columns, or
 * one that cannot be parsed, is refused as a whole with a `CrosswalkFileError`.
 */
export function crosswalkRows(input: Readable, options: CrosswalkRowsOptions): AsyncGenerator<CrosswalkRow> {
  return options.format === 'csv' ? csvRows(input, options.columns) : ndjsonRows(input, options.columns ?? ['from', 'to']);
}

/** The header's two column positions, and the column names rows are reported under. */
function headerColumns(names: string[], line: number, wanted: readonly [string, string] | undefined): { columns: readonly [string, string]; indexes: [number, number] } {
  if (!wanted && names.length < 2) throw new CrosswalkFileError(`line ${line}: the header names ${names.length} column; a crosswalk needs two`);
  const columns = wanted ?? ([names[0]!, names[1]!] as const);
  const indexes: [number, number] = [names.indexOf(columns[0]), names.indexOf(columns[1])];
  if (indexes[0] === -1 || indexes[1] === -1) {
    throw new CrosswalkFileError(`the header has ${names.map((name) => `"${name}"`).join(', ')}; the crosswalk needs "${columns[0]}" and "${columns[1]}" (pass the right columns)`);
  }
  return { columns, indexes };
}

/** A CSV syntax error as a refusal that says where and what to do. */
function unreadable(error: CsvError): CrosswalkFileError {
  if (error.code === 'CSV_MAX_RECORD_SIZE') {
    return new CrosswalkFileError(`${typeof error.lines === 'number' ? `line ${error.lines}: ` : ''}a record runs past ${MAX_RECORD_LENGTH} characters: a quoted field before it is not closed, or this is not a crosswalk`);
  }
  if (error.code === 'CSV_QUOTE_NOT_CLOSED') return new CrosswalkFileError(`a quoted field is still open where the input ends${typeof error.lines === 'number' ? ` (line ${error.lines})` : ''}`);
  return new CrosswalkFileError(`the CSV cannot be read (${error.message}); quote a field whole ("a ""b"" c"), or not at all`);
}

/**
 * RFC 4180 CSV through csv-parse, with a header row; a byte order mark, surrounding blanks and
 * blank lines are ignored. A row with other than the header's number of fields, or with a value
 * that cannot be an id, is rejected alone. A syntax error (a broken quote, an oversize record)
 * refuses the whole input: after one the parser no longer knows where the next record starts,
 * so no line after it could be trusted. A quoted line break is refused the same way: ids have none,
 * so it is a quote left open.
 */
async function* csvRows(input: Readable, wanted: readonly [string, string] | undefined): AsyncGenerator<CrosswalkRow> {
  // Blank lines come through as one empty field so that counting records counts lines: a record
  // never spans lines here (one that would is refused below).
  const parser = input.pipe(parse({ bom: true, trim: true, relax_column_count: true, max_record_size: MAX_RECORD_LENGTH }));
  // A failing upload must not leave its parser waiting for data.
  input.once('error', (error) => parser.destroy(error));
  let header: { columns: readonly [string, string]; indexes: [number, number]; width: number } | undefined;
  let line = 0;
  try {
    for await (const record of parser as AsyncIterable<string[]>) {
      line += 1;
      if (record.length === 1 && record[0] === '') continue;
      if (record.some((field) => field.includes('\n') || field.includes('\r'))) {
        throw new CrosswalkFileError(`line ${line}: a quoted field holds a line break, which no id has; close the quote on its own line`);
      }
      if (!header) {
        header = { ...headerColumns(record, line, wanted), width: record.length };
        continue;
      }
      if (record.length !== header.width) yield { line, error: `${record.length} fields where the header has ${header.width}` };
      else yield row(line, record[header.indexes[0]], record[header.indexes[1]], header.columns);
    }
  } catch (error) {
    throw error instanceof CsvError ? unreadable(error) : error;
  } finally {
    parser.destroy();
  }
}

/** Passes the input through, refusing it at the first line longer than the bound, before readline would buffer that line whole. */
function boundedLines(): Transform {
  let line = 1;
  let length = 0;
  const tooLong = () => new CrosswalkFileError(`line ${line}: a line runs past ${MAX_RECORD_LENGTH} bytes; NDJSON has one pair a line`);
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      let start = 0;
      for (let newline = chunk.indexOf(10); newline !== -1; newline = chunk.indexOf(10, start)) {
        if (length + newline - start > MAX_RECORD_LENGTH) return done(tooLong());
        line += 1;
        length = 0;
        start = newline + 1;
      }
      length += chunk.length - start;
      if (length > MAX_RECORD_LENGTH) return done(tooLong());
      done(null, chunk);
    },
  });
}

/** One JSON value a line: an object with the two keys, or a pair. A line that is not JSON is rejected alone. */
async function* ndjsonRows(input: Readable, columns: readonly [string, string]): AsyncGenerator<CrosswalkRow> {
  const lines = input.pipe(boundedLines());
  // A failing upload must not leave the line reader waiting for data.
  input.once('error', (error) => lines.destroy(error));
  let lineNumber = 0;
  for await (const raw of createInterface({ input: lines, crlfDelay: Infinity })) {
    lineNumber += 1;
    const line = lineNumber === 1 ? raw.replace(/^\uFEFF/, '') : raw;
    if (line.trim() === '') continue;
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
  }
}
