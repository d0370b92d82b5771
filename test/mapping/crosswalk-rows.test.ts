/**
 * Crosswalk rows: one reader, csv-parse underneath, for the files a configuration names and for
 * uploads alike. Each data row comes out as a pair or as a rejection with its line number; input
 * whose records cannot be told apart is refused whole.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { importCrosswalkCsv } from '../../src/mapping/crosswalk-file';
import { CrosswalkFileError, crosswalkRows, CrosswalkTooLargeError, MAX_RECORD_LENGTH, type CrosswalkBounds, type CrosswalkRow, type CrosswalkRowsOptions } from '../../src/mapping/crosswalk-rows';
import { MemoryMappingStore } from '../../src/mapping/mapping-store';

async function read(text: string | string[], options: CrosswalkRowsOptions = { format: 'csv' }): Promise<CrosswalkRow[]> {
  const rows: CrosswalkRow[] = [];
  for await (const row of crosswalkRows(Readable.from(Array.isArray(text) ? text : [text]), options)) rows.push(row);
  return rows;
}

describe('crosswalk rows from CSV', () => {
  it('takes the first two columns by default, trims blanks, and counts lines from the header', async () => {
    expect(await read('crm,orders\n a , 1 \nb,2\n')).toEqual([
      { line: 2, pair: ['a', '1'] },
      { line: 3, pair: ['b', '2'] },
    ]);
  });

  it('takes named columns wherever the header puts them', async () => {
    expect(await read('note,orders,crm\nx,1,a\n', { format: 'csv', columns: ['crm', 'orders'] })).toEqual([{ line: 2, pair: ['a', '1'] }]);
  });

  it('reads quoted fields by RFC 4180: delimiters and doubled quotes inside, blanks outside', async () => {
    expect(await read('from,to\n"a,b","say ""hi"""\n "c" , "2" \n')).toEqual([
      { line: 2, pair: ['a,b', 'say "hi"'] },
      { line: 3, pair: ['c', '2'] },
    ]);
  });

  it('reads CRLF line ends and ignores a byte order mark', async () => {
    expect(await read('\uFEFFcrm,orders\r\na,1\r\nb,2\r\n', { format: 'csv', columns: ['crm', 'orders'] })).toEqual([
      { line: 2, pair: ['a', '1'] },
      { line: 3, pair: ['b', '2'] },
    ]);
  });

  it('skips blank lines, still counting them', async () => {
    expect(await read('from,to\n\na,1\n   \nb,2\n\n')).toEqual([
      { line: 3, pair: ['a', '1'] },
      { line: 5, pair: ['b', '2'] },
    ]);
  });

  it('reads records split across chunks', async () => {
    expect(await read(['from,t', 'o\na', ',1\n"b', '",2'])).toEqual([
      { line: 2, pair: ['a', '1'] },
      { line: 3, pair: ['b', '2'] },
    ]);
  });

  it('rejects alone each row with a missing value or a value that cannot be an id', async () => {
    expect(await read(['from,to', 'a,', ',1', `${'x'.repeat(257)},1`, 'd,"\u0007"', 'e,5'].join('\n'))).toEqual([
      { line: 2, error: '"to" is empty' },
      { line: 3, error: '"from" is empty' },
      { line: 4, error: '"from" is 257 characters long (at most 256)' },
      { line: 5, error: '"to" holds control characters' },
      { line: 6, pair: ['e', '5'] },
    ]);
  });

  it('refuses the whole input at a row with more or fewer fields than the header, naming its line: which fields are the ids cannot be told', async () => {
    await expect(read(['from,to', 'a,1', 'c,1,extra', 'e,5'].join('\n'))).rejects.toThrow(new CrosswalkFileError('line 3: 3 fields where the header has 2; quote an id that holds a comma'));
    await expect(read(['from,to', 'a,1', '', 'b', 'e,5'].join('\n'))).rejects.toThrow(new CrosswalkFileError('line 4: 1 fields where the header has 2; quote an id that holds a comma'));
    // The header's width is the rule, whatever the columns taken.
    await expect(read(['note,from,to', 'x,a,1', 'a,1'].join('\n'), { format: 'csv', columns: ['from', 'to'] })).rejects.toThrow(/^line 3: 2 fields where the header has 3/);
  });

  it('refuses a header without the named columns, or with fewer than two', async () => {
    await expect(read('crm,billing\n1,2\n', { format: 'csv', columns: ['crm_customer_id', 'billing_customer_number'] })).rejects.toThrow(
      new CrosswalkFileError('the header has "crm", "billing"; the crosswalk needs "crm_customer_id" and "billing_customer_number" (pass the right columns)'),
    );
    await expect(read('only\n1\n')).rejects.toThrow(new CrosswalkFileError('line 1: the header names 1 column; a crosswalk needs two'));
    await expect(read('"crm,billing\n1,2\n')).rejects.toThrow(CrosswalkFileError);
  });

  it('reads nothing from an empty input', async () => {
    expect(await read('')).toEqual([]);
  });

  it('refuses the whole input at a broken quote, since no record after it could be trusted', async () => {
    await expect(read('from,to\na,1\n"b,2\nc,3\n')).rejects.toThrow(new CrosswalkFileError('a quoted field is still open where the input ends (line 4)'));
    await expect(read('from,to\na,1\n"b"x,2\nc,3\n')).rejects.toThrow(/^the CSV cannot be read \(Invalid Closing Quote: got "x" at line 3 .*\); quote a field whole/);
    await expect(read('from,to\na"b,2\n')).rejects.toThrow(/^the CSV cannot be read \(Invalid Opening Quote: a quote is found on field 0 at line 2/);
    await expect(read('from,to\n"a\nb",2\n')).rejects.toThrow(new CrosswalkFileError('line 2: a quoted field holds a line break, which no id has; close the quote on its own line'));
  });

  it('refuses a record longer than the bound instead of buffering it, naming the line', async () => {
    const rows = ['from,to', 'a,1', `${'b'.repeat(MAX_RECORD_LENGTH + 1)},2`, 'c,3'].join('\n');
    await expect(read(rows)).rejects.toThrow(new CrosswalkTooLargeError(3, `line 3: a line runs past ${MAX_RECORD_LENGTH} bytes (registry.imports.maxLineBytes); a crosswalk has one pair a line`));
    // An unclosed quote in a long file hits the same bound rather than reading the file to its end.
    const open = ['from,to', '"a,1', ...Array.from({ length: 2_000 }, (_, i) => `id${i},${i}`)].join('\n');
    await expect(read(open)).rejects.toThrow(/^line \d+: a record runs past 16384 characters/);
  });
});

describe('crosswalk rows from NDJSON', () => {
  it('takes objects with the two keys or pairs, and rejects a line that is neither, alone', async () => {
    expect(await read(['\uFEFF{"from": "a", "to": 1}', '["b", "2"]', '', '{"from": "c"', '[1]', '"x"', '{"from": "d", "to": "4"}'].join('\r\n'), { format: 'ndjson' })).toEqual([
      { line: 1, pair: ['a', '1'] },
      { line: 2, pair: ['b', '2'] },
      { line: 4, error: 'not valid JSON' },
      { line: 5, error: 'an array of 1 items (expected 2)' },
      { line: 6, error: 'expected an object with "from" and "to", or a pair' },
      { line: 7, pair: ['d', '4'] },
    ]);
  });

  it('refuses a line longer than the bound instead of buffering it, naming the line', async () => {
    const long = ['{"from": "a", "to": "1"}', `{"from": "${'b'.repeat(MAX_RECORD_LENGTH)}", "to": "2"}`, '{"from": "c", "to": "3"}'].join('\n');
    await expect(read(long, { format: 'ndjson' })).rejects.toThrow(new CrosswalkTooLargeError(2, `line 2: a line runs past ${MAX_RECORD_LENGTH} bytes (registry.imports.maxLineBytes); a crosswalk has one pair a line`));
    // Split across chunks, and without a line end at all.
    await expect(read(['{"from": "', 'x'.repeat(MAX_RECORD_LENGTH / 2), 'x'.repeat(MAX_RECORD_LENGTH / 2), '"'], { format: 'ndjson' })).rejects.toThrow(/^line 1: a line runs past/);
    expect(await read([`{"from": "a", "to": "1"}\n`, `{"from": "b", "to": "2"}`], { format: 'ndjson' })).toEqual([
      { line: 1, pair: ['a', '1'] },
      { line: 2, pair: ['b', '2'] },
    ]);
  });
});

describe('the bounds of an upload', () => {
  const bounds: CrosswalkBounds = { maxLineBytes: 64, maxRows: 3, maxBytes: 200 };
  /** What a refusal says, and the line it names. */
  const refusal = async (input: string | string[] | Readable, options: Partial<CrosswalkRowsOptions> = {}) => {
    const stream = input instanceof Readable ? input : Readable.from(Array.isArray(input) ? input : [input]);
    try {
      for await (const _row of crosswalkRows(stream, { format: 'csv', bounds, ...options })) void _row;
    } catch (error) {
      return error instanceof CrosswalkTooLargeError ? { line: error.line, code: error.code, message: error.message } : { other: String(error) };
    }
    return undefined;
  };

  it('refuses the first row past maxRows, blank lines and the header not counted', async () => {
    expect(await refusal('from,to\na,1\n\nb,2\nc,3\n')).toBeUndefined();
    expect(await refusal('from,to\na,1\n\nb,2\nc,3\nd,4\n')).toEqual({ line: 6, code: 'CROSSWALK_TOO_LARGE', message: 'line 6: more than 3 rows (registry.imports.maxRows); split the crosswalk into several uploads' });
    expect(await refusal(['{"from":"a","to":1}', '{"from":"b","to":2}', '["c","3"]', '["d","4"]'].join('\n'), { format: 'ndjson' })).toMatchObject({ line: 4 });
  });

  it('refuses a line past maxLineBytes, with or without a line end, and an input past maxBytes, at the line reached', async () => {
    expect(await refusal(`from,to\n${'a'.repeat(70)},1\n`)).toEqual({ line: 2, code: 'CROSSWALK_TOO_LARGE', message: 'line 2: a line runs past 64 bytes (registry.imports.maxLineBytes); a crosswalk has one pair a line' });
    expect(await refusal(['from,to\n', 'a'.repeat(40), 'a'.repeat(40)])).toMatchObject({ line: 2 });
    expect(await refusal(['from,to\na,1\n', 'b,2\n'.repeat(60)], { bounds: { ...bounds, maxRows: 1_000 } })).toEqual({ line: 3, code: 'CROSSWALK_TOO_LARGE', message: 'line 3: the crosswalk runs past 200 bytes (registry.imports.maxUploadBytes); split it into several uploads' });
  });

  it('reads no further than the bound into a single line of 5 MB sent without a line end: the input is left unread, never buffered whole', async () => {
    let served = 0;
    const chunk = Buffer.alloc(65_536, 0x61);
    const endless = new Readable({
      read() {
        served += chunk.length;
        this.push(served > 5_000_000 ? null : chunk);
      },
    });
    expect(await refusal(endless, { bounds: { maxLineBytes: 65_536, maxRows: 10, maxBytes: 100_000_000 } })).toEqual({
      line: 1,
      code: 'CROSSWALK_TOO_LARGE',
      message: 'line 1: a line runs past 65536 bytes (registry.imports.maxLineBytes); a crosswalk has one pair a line',
    });
    // The transform refused the second chunk: what was read is what the stream's buffers hold, not the 5 MB.
    expect(served).toBeLessThan(1_000_000);
  });
});

describe('a crosswalk file named in the configuration', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'virtualize-crosswalk-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function file(name: string, text: string): string {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  }

  it('loads its pairs into the store by the same rules as an upload', async () => {
    const store = new MemoryMappingStore();
    const path = file('good.csv', '\uFEFFcrm_customer_id,order_customer_ref\r\n"C1",100\r\n\r\nC2 , 200\r\nC1,101\r\n');
    expect(await importCrosswalkCsv(store, 'customerOrders', path, ['crm_customer_id', 'order_customer_ref'])).toEqual({ rows: 3, added: 3 });
    expect(await store.count('customerOrders')).toBe(3);
  });

  it('is refused at its first rejected row, naming the file and the line', async () => {
    const path = file('bad.csv', 'crm_customer_id,order_customer_ref\nC1,100\nC2\n');
    await expect(importCrosswalkCsv(new MemoryMappingStore(), 'customerOrders', path, ['crm_customer_id', 'order_customer_ref'])).rejects.toThrow(
      new CrosswalkFileError(`${path}, line 3: 1 fields where the header has 2; quote an id that holds a comma`),
    );
  });

  it('is refused when its header lacks the mapping\'s columns', async () => {
    const path = file('header.csv', 'crm,orders\nC1,100\n');
    await expect(importCrosswalkCsv(new MemoryMappingStore(), 'customerOrders', path, ['crm_customer_id', 'order_customer_ref'])).rejects.toThrow(
      `${path}, the header has "crm", "orders"; the crosswalk needs "crm_customer_id" and "order_customer_ref"`,
    );
  });
});
