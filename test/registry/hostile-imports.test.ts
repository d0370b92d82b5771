/**
 * Crosswalk uploads an attacker (or a mistake) sends: a line of megabytes with no line end, more
 * rows or more bytes than the bounds, a client that goes away mid-upload, and a removal of the
 * mapping while its import runs. Each is refused with its code and the line reached, reads no
 * further than the bound, leaves no staging directory and no file behind, and the gateway serves
 * on. The bounds are small here (registry.imports) so that the cases stay cheap.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { billingDataset } from '../../sources/billing/data';
import { billingDocument } from '../support/billing';
import { ADMIN_TOKEN, CHANGE, startRegistryHarness, type RegistryHarness } from '../support/registry-harness';

const billing = billingDataset();
const IMPORTS = { maxLineBytes: 65_536, maxRows: 20_000, maxUploadBytes: 1_048_576 };
const stagingRoot = mkdtempSync(join(tmpdir(), 'virtualize-hostile-staging-'));
const HEADER = 'crm_customer_id,billing_customer_number\n';

let storeDir: string;
let h: RegistryHarness;

beforeAll(async () => {
  storeDir = mkdtempSync(join(tmpdir(), 'virtualize-hostile-store-'));
  // Staging directories in a directory of this test's own, to see them all.
  h = await startRegistryHarness({ store: { kind: 'file', dir: storeDir }, registry: { imports: { ...IMPORTS, stagingDir: stagingRoot } } });
  const registered = await h.admin<{ registerSource: { ok: boolean } }>(`mutation($d: JSON!) { registerSource(definition: $d, sample: false) { ok } }`, { d: billingDocument() });
  expect(registered.data?.registerSource.ok).toBe(true);
});

afterAll(async () => {
  await h?.close();
  rmSync(storeDir, { recursive: true, force: true });
  rmSync(stagingRoot, { recursive: true, force: true });
});

interface Streamed {
  status: number;
  lines: Array<Record<string, unknown>>;
  /** Bytes the client had written when the answer ended. */
  sent: number;
}

/**
 * Uploads a body chunk by chunk (chunked: no Content-Length) until the source runs dry or the
 * gateway answers, as a client that keeps sending would. With `keepOpen` the body is never ended:
 * the client stalls once its chunks are out.
 */
function streamUpload(
  mapping: string,
  chunks: Iterable<string | Buffer>,
  options: { headers?: Record<string, string>; onLine?: (line: Record<string, unknown>) => void; keepOpen?: boolean; onRequest?: (req: ReturnType<typeof httpRequest>) => void } = {},
): Promise<Streamed> {
  const url = new URL(`${h.origin}/admin/crosswalks/${mapping}`);
  return new Promise((resolve, reject) => {
    let sent = 0;
    let answered = false;
    const req = httpRequest(url, { method: 'POST', headers: { 'content-type': 'text/csv', authorization: `Bearer ${ADMIN_TOKEN}`, ...options.headers } }, (res) => {
      answered = true;
      let text = '';
      const lines: Array<Record<string, unknown>> = [];
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
        for (let newline = text.indexOf('\n'); newline !== -1; newline = text.indexOf('\n')) {
          const line = JSON.parse(text.slice(0, newline)) as Record<string, unknown>;
          text = text.slice(newline + 1);
          lines.push(line);
          options.onLine?.(line);
        }
      });
      res.on('end', () => {
        if (text.trim() !== '') lines.push(JSON.parse(text) as Record<string, unknown>);
        resolve({ status: res.statusCode ?? 0, lines, sent });
      });
      res.on('error', reject);
      res.on('close', () => {
        if (!res.complete) reject(new Error('the answer was cut off'));
      });
    });
    // Writing into a connection the gateway closed after answering fails; the answer is what counts.
    req.on('error', (error) => {
      if (!answered) reject(error);
    });
    options.onRequest?.(req);
    const iterator = chunks[Symbol.iterator]();
    const pump = () => {
      while (!answered && !req.destroyed) {
        const next = iterator.next();
        if (next.done) return void (options.keepOpen ? undefined : req.end());
        sent += next.value.length;
        if (!req.write(next.value)) return void req.once('drain', pump);
      }
    };
    pump();
  });
}

/** `total` bytes of one line with no line end, in 64 KiB chunks. */
function* oneLine(total: number): Generator<Buffer> {
  const chunk = Buffer.alloc(65_536, 0x61);
  for (let sent = 0; sent < total; sent += chunk.length) yield chunk;
}

function* csvRows(count: number, start = 0, width = 0): Generator<string> {
  yield HEADER;
  const pad = 'x'.repeat(width);
  for (let i = start; i < start + count; i += 500) {
    yield Array.from({ length: Math.min(500, start + count - i) }, (_, j) => `0035e9${pad}${String(i + j).padStart(12, '0')},${900_000 + i + j}\n`).join('');
  }
}

const staging = () => readdirSync(stagingRoot);
const crosswalkFiles = () => (existsSync(join(storeDir, 'crosswalks')) ? readdirSync(join(storeDir, 'crosswalks')) : []);

async function pairs(): Promise<number | undefined> {
  const answer = await h.admin<{ status: { mappings: Array<{ name: string; pairs: number | null }> } }>('{ status { mappings { name pairs } } }');
  return answer.data!.status.mappings.find((m) => m.name === 'customerInvoices')?.pairs ?? undefined;
}

/** The gateway still answers: liveness, and a query through a source. */
async function stillServing(): Promise<void> {
  expect((await fetch(`${h.origin}/healthz`)).status).toBe(200);
  const { data, errors } = await h.graphql<{ customers: { nodes: Array<{ id: string }> } }>('{ customers(first: 1) { nodes { id } } }');
  expect(errors).toBeUndefined();
  expect(data!.customers.nodes).toHaveLength(1);
}

describe('crosswalk uploads past their bounds', () => {
  it('refuses a 5 MB line against a 64 KiB bound at line 2 with 413, without reading the rest of it', async () => {
    const answer = await streamUpload('customerInvoices', [HEADER, ...oneLine(5_000_000)]);
    expect(answer.status).toBe(413);
    expect(answer.lines).toEqual([
      { errors: [{ message: 'line 2: a line runs past 65536 bytes (registry.imports.maxLineBytes); a crosswalk has one pair a line', extensions: { code: 'CROSSWALK_TOO_LARGE', line: 2 } }] },
    ]);
    // The client was stopped long before the end of its line: the gateway read no further than its bound and the sockets' buffers.
    expect(answer.sent).toBeLessThan(5_000_000);
    expect(staging()).toEqual([]);
    expect(await pairs()).toBe(0);
    await stillServing();
  });

  it('refuses a single line without any line end, as the first line', async () => {
    const answer = await streamUpload('customerInvoices', oneLine(3_000_000), { headers: { 'content-type': 'application/x-ndjson' } });
    expect(answer).toMatchObject({ status: 413, lines: [{ errors: [{ extensions: { code: 'CROSSWALK_TOO_LARGE', line: 1 } }] }] });
    expect(staging()).toEqual([]);
    await stillServing();
  });

  it('refuses an upload whose Content-Length is past maxUploadBytes before reading it, and one that streams past it at the line reached', async () => {
    const declared = await h.upload('customerInvoices', `${HEADER}${'0035e0000002O61AAE,13263\n'.repeat(50_000)}`);
    expect(declared).toEqual({
      status: 413,
      lines: [{ errors: [{ message: 'the upload is 1250040 bytes, past registry.imports.maxUploadBytes (1048576): split the crosswalk into several uploads', extensions: { code: 'CROSSWALK_TOO_LARGE', line: 1 } }] }],
    });
    // Rows of 250 bytes: the byte bound is reached near row 4,200, before the row bound or a progress line.
    const streamed = await streamUpload('customerInvoices', csvRows(8_000, 0, 230));
    expect(streamed.status).toBe(413);
    const error = (streamed.lines[0] as { errors: Array<{ message: string; extensions: { code: string; line: number } }> }).errors[0]!;
    expect(error.extensions.code).toBe('CROSSWALK_TOO_LARGE');
    expect(error.message).toBe(`line ${error.extensions.line}: the crosswalk runs past 1048576 bytes (registry.imports.maxUploadBytes); split it into several uploads`);
    expect(error.extensions.line).toBeGreaterThan(4_000);
    expect(error.extensions.line).toBeLessThan(4_300);
    expect(staging()).toEqual([]);
    expect(await pairs()).toBe(0);
  });

  it('refuses the row past maxRows in the answer it is streaming (after progress lines), importing nothing', async () => {
    const answer = await streamUpload('customerInvoices', csvRows(IMPORTS.maxRows + 1));
    expect(answer.status).toBe(200);
    expect(answer.lines.filter((line) => line.type === 'progress').length).toBeGreaterThanOrEqual(1);
    expect(answer.lines.at(-1)).toEqual({
      type: 'error',
      code: 'CROSSWALK_TOO_LARGE',
      status: 413,
      line: IMPORTS.maxRows + 2,
      message: `line ${IMPORTS.maxRows + 2}: more than ${IMPORTS.maxRows} rows (registry.imports.maxRows); split the crosswalk into several uploads`,
    });
    expect(staging()).toEqual([]);
    expect(await pairs()).toBe(0);
    await stillServing();
  });

  it('cleans its staging directory when the client goes away mid-upload', async () => {
    const failed = h.logged((event) => event.msg === 'crosswalk import failed' && /before its end/.test(String(event.reason)));
    let client!: ReturnType<typeof httpRequest>;
    // The client leaves once the gateway says it is reading (a progress line), its staging directory open.
    const upload = streamUpload('customerInvoices', csvRows(12_000), {
      keepOpen: true,
      onRequest: (req) => (client = req),
      onLine: (line) => {
        if (line.type !== 'progress') return;
        expect(staging()).toHaveLength(1);
        client.destroy();
      },
    });
    await expect(upload).rejects.toThrow();
    expect(await failed).toMatchObject({ mapping: 'customerInvoices', reason: expect.stringMatching(/^the input (closed|failed) before its end/) });
    expect(staging()).toEqual([]);
    expect(await pairs()).toBe(0);
    await stillServing();
  });
});

describe('removing a mapping while its import runs', () => {
  const mapping = () => billingDocument().mappings!.customerInvoices;

  it('cancels the import, which answers so; no pair, file or staging is left, and a mapping of the same name starts empty', async () => {
    // Pairs imported before: the removal must take them too.
    const first = billing.crosswalk.slice(0, 50).map((pair) => `${pair.crmCustomerId},${pair.billingCustomerNumber}`);
    const before = await h.upload('customerInvoices', `${HEADER}${first.join('\n')}\n`);
    expect(before.lines.at(-1)).toMatchObject({ type: 'result', applied: true, added: 50 });
    expect(crosswalkFiles()).toEqual(['customerInvoices.ndjson']);

    // A second import that reads 12,000 rows (a progress line says so) and then stalls: its client stops sending.
    let progressed!: () => void;
    const reading = new Promise<void>((resolve) => (progressed = resolve));
    const upload = streamUpload('customerInvoices', csvRows(12_000), { keepOpen: true, onLine: (line) => line.type === 'progress' && progressed() });
    await reading;
    expect((await h.admin<{ status: { imports: Array<{ mapping: string }> } }>('{ status { imports { mapping } } }')).data!.status.imports).toEqual([expect.objectContaining({ mapping: 'customerInvoices' })]);

    const removed = await h.admin<{ removeMapping: { ok: boolean } }>(`mutation { removeMapping(name: "customerInvoices") { ok } }`);
    expect(removed.data?.removeMapping.ok).toBe(true);
    const answer = await upload;
    expect(answer.lines.at(-1)).toEqual({ type: 'error', code: 'CONFLICT', status: 409, message: 'the import of customerInvoices was cancelled: the mapping was removed meanwhile; nothing was imported' });
    expect(staging()).toEqual([]);
    expect(crosswalkFiles()).toEqual([]);

    const again = await h.admin<{ registerMapping: { ok: boolean } }>(`mutation($m: JSON!) { registerMapping(name: "customerInvoices", mapping: $m, sample: false) { ${CHANGE} } }`, { m: mapping() });
    expect(again.data?.registerMapping.ok).toBe(true);
    expect(await pairs()).toBe(0);
    const customer = billing.crosswalk[0]!.crmCustomerId;
    const { data } = await h.graphql<{ customer: { invoices: unknown[] } }>(`{ customer(id: "${customer}") { invoices { id } } }`);
    expect(data!.customer.invoices).toEqual([]);
    await stillServing();
  });
});
