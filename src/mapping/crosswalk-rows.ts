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

/** A crosswalk past one of its bounds: refused whole (HTTP 413 for an upload), at the line where it went past. */
export class CrosswalkTooLargeError extends VirtualizeError<typeof CODES.CROSSWALK_TOO_LARGE> {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(CODES.CROSSWALK_TOO_LARGE, message, { line });
  }
}

/** How much of a crosswalk is read before it is refused. */
export interface CrosswalkBounds {
  /** Longest line, in bytes (a CSV record, too, in characters). */
  maxLineBytes: number;
  /** Most data rows (blank lines and the header not counted). */
  maxRows: number;
  /** Most bytes in all. */
  maxBytes: number;
}

/**
 * Longest record read: characters of a CSV record, bytes of an NDJSON line. A crosswalk row is two
 * ids and perhaps a few more columns; a record this long is an unclosed quote swallowing the lines
 * after it, or not a crosswalk at all, and without a bound it would be buffered whole. The bound of
 * files a configuration names; uploads take theirs from `registry.imports`.
 */
export const MAX_RECORD_LENGTH = 16_384;

const FILE_BOUNDS: CrosswalkBounds = { maxLineBytes: MAX_RECORD_LENGTH, maxRows: Number.MAX_SAFE_INTEGER, maxBytes: Number.MAX_SAFE_INTEGER };

export interface CrosswalkRowsOptions {
  format: CrosswalkFormat;
  /**
   * The from and to columns: CSV header names, or NDJSON keys. Default: the first two columns of
   * a CSV; `from` and `to` (or a two-element array per line) in NDJSON.
   */
  columns?: readonly [string, string];
  /** Default: lines of 16,384 bytes, and no bound on rows or bytes (a file the operator named). */
  bounds?: CrosswalkBounds;
}

/** Longest id accepted in a crosswalk; longer values are rows gone wrong, not ids. */
const MAX_VALUE_LENGTH = 256;

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
export async function* crosswalkRows(input: Readable, options: CrosswalkRowsOptions): AsyncGenerator<CrosswalkRow> {
  const bounds = options.bounds ?? FILE_BOUNDS;
  const bounded = input.pipe(boundedLines(bounds));
  // Its readers listen for its errors while they read; one raised after they stopped is no news.
  bounded.on('error', () => undefined);
  // A failing or vanished input must not leave its readers waiting for data.
  const failed = (error: Error) => bounded.destroy(new CrosswalkFileError(`the input failed before its end (${error.message}): nothing of it is imported`));
  const closed = () => {
    if (!input.readableEnded) bounded.destroy(new CrosswalkFileError('the input closed before its end: nothing of it is imported'));
  };
  input.once('error', failed);
  input.once('close', closed);
  try {
    const rows = options.format === 'csv' ? csvRows(bounded, options.columns, bounds) : ndjsonRows(bounded, options.columns ?? ['from', 'to']);
    yield* countedRows(rows, bounds.maxRows);
  } finally {
    input.off('error', failed);
    input.off('close', closed);
    input.unpipe(bounded);
    bounded.destroy();
  }
}

/** Refuses the input at its first data row past `maxRows`. */
async function* countedRows(rows: AsyncGenerator<CrosswalkRow>, maxRows: number): AsyncGenerator<CrosswalkRow> {
  let count = 0;
  for await (const row of rows) {
    count += 1;
    if (count > maxRows) throw new CrosswalkTooLargeError(row.line, `line ${row.line}: more than ${maxRows} rows (registry.imports.maxRows); split the crosswalk into several uploads`);
    yield row;
  }
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
function unreadable(error: CsvError, maxRecord: number): CrosswalkFileError {
  if (error.code === 'CSV_MAX_RECORD_SIZE') {
    return new CrosswalkFileError(`${typeof error.lines === 'number' ? `line ${error.lines}: ` : ''}a record runs past ${maxRecord} characters: a quoted field before it is not closed, or this is not a crosswalk`);
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
async function* csvRows(input: Readable, wanted: readonly [string, string] | undefined, bounds: CrosswalkBounds): AsyncGenerator<CrosswalkRow> {
  // Blank lines come through as one empty field so that counting records counts lines: a record
  // never spans lines here (one that would is refused below).
  const parser = input.pipe(parse({ bom: true, trim: true, relax_column_count: true, max_record_size: bounds.maxLineBytes }));
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
      // A row of another width is a delimiter inside an unquoted id, or a file of another layout:
      // which of its fields are the ids cannot be told, so the whole input is refused.
      if (record.length !== header.width) throw new CrosswalkFileError(`line ${line}: ${record.length} fields where the header has ${header.width}; quote an id that holds a comma`);
      yield row(line, record[header.indexes[0]], record[header.indexes[1]], header.columns);
    }
  } catch (error) {
    throw error instanceof CsvError ? unreadable(error, bounds.maxLineBytes) : error;
  } finally {
    parser.destroy();
  }
}

/**
 * Passes the input through, refusing it at the first line longer than the bound (before a reader
 * would buffer that line whole: a single line of 600 MB would otherwise end in a RangeError) and
 * at the first byte past the total bound.
 */
function boundedLines(bounds: CrosswalkBounds): Transform {
  let line = 1;
  let length = 0;
  let total = 0;
  const tooLong = () => new CrosswalkTooLargeError(line, `line ${line}: a line runs past ${bounds.maxLineBytes} bytes (registry.imports.maxLineBytes); a crosswalk has one pair a line`);
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      total += chunk.length;
      if (total > bounds.maxBytes) return done(new CrosswalkTooLargeError(line, `line ${line}: the crosswalk runs past ${bounds.maxBytes} bytes (registry.imports.maxUploadBytes); split it into several uploads`));
      let start = 0;
      for (let newline = chunk.indexOf(10); newline !== -1; newline = chunk.indexOf(10, start)) {
        if (length + newline - start > bounds.maxLineBytes) return done(tooLong());
        line += 1;
        length = 0;
        start = newline + 1;
      }
      length += chunk.length - start;
      if (length > bounds.maxLineBytes) return done(tooLong());
      done(null, chunk);
    },
  });
}

/** One JSON value a line: an object with the two keys, or a pair. A line that is not JSON is rejected alone. */
async function* ndjsonRows(input: Readable, columns: readonly [string, string]): AsyncGenerator<CrosswalkRow> {
  let lineNumber = 0;
  for await (const raw of createInterface({ input, crlfDelay: Infinity })) {
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
