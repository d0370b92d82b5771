/**
 * An upstream answer is bounded while it streams: a source answering 128 MiB against a
 * `limits.maxResponseBytes` of 1 MiB fails the call with SOURCE_BAD_RESPONSE naming the bound,
 * the rest is never read (the connection is closed, so the source stops writing far short of its
 * body), the gateway's memory does not grow by the body, and the gateway keeps serving. A token
 * endpoint's answer is bounded too.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sourceDefinition } from '../../src/config/definition';
import { SourceHttpClient } from '../../src/connectors/http-client';
import { MAX_TOKEN_RESPONSE_BYTES } from '../../src/connectors/policies/oauth-client-credentials';
import { billingDocument } from '../support/billing';
import { startRegistryHarness, type RegistryHarness } from '../support/registry-harness';

const MiB = 1024 * 1024;
const BODY_BYTES = 128 * MiB;

/** A source that answers every request with `BODY_BYTES` of JSON-looking text, written as fast as the client reads it. */
interface FloodingSource {
  port: number;
  /** Per answer: the bytes the socket accepted before it closed or the body ended, whether it was cut off, and when it was over. */
  answers: Array<{ written: number; cutOff: boolean; over: Promise<void> }>;
  close(): Promise<void>;
}

async function startFloodingSource(): Promise<FloodingSource> {
  const chunk = Buffer.alloc(64 * 1024, 'x');
  const answers: FloodingSource['answers'] = [];
  const server: Server = createServer((req, res) => {
    let over!: () => void;
    const answer = { written: 0, cutOff: false, over: new Promise<void>((resolve) => (over = resolve)) };
    answers.push(answer);
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"results":"');
    res.on('close', () => {
      if (!res.writableFinished) answer.cutOff = true;
      over();
    });
    const pump = () => {
      while (answer.written < BODY_BYTES && !res.destroyed) {
        answer.written += chunk.length;
        // The same buffer every time: the source's own memory stays flat.
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      if (!res.destroyed) res.end('"}');
    };
    pump();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    answers,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

let flood: FloodingSource;
let h: RegistryHarness;
beforeAll(async () => {
  flood = await startFloodingSource();
  h = await startRegistryHarness({ allowPrivate: [`127.0.0.1:${flood.port}`] });
});
afterAll(async () => {
  await h?.close();
  await flood?.close();
});

describe('the bound of an upstream answer', () => {
  it('cuts a 128 MiB answer off at limits.maxResponseBytes: the call fails, the rest is never read, memory stays flat, the gateway serves on', async () => {
    const document = billingDocument();
    document.sources.billing!.baseUrl = `http://127.0.0.1:${flood.port}/billing/v2`;
    document.sources.billing!.auth = { type: 'none' };
    document.sources.billing!.limits = { ...document.sources.billing!.limits, maxResponseBytes: MiB, retry: false };
    delete document.mappings;
    const change = await h.registry.register(document, 'admin', false);
    expect(change.report.problems).toEqual([]);

    const ask = () => h.graphql<{ invoice: unknown }>('{ invoice(id: "INV-2024-000001") { id } }');
    // Once before measuring, so that what the first call loads (code, pools) is not counted as growth.
    await ask();
    const rssBefore = process.memoryUsage().rss;
    for (let n = 0; n < 3; n++) {
      const answer = await ask();
      expect(answer.data).toEqual({ invoice: null });
      expect(answer.errors).toEqual([
        expect.objectContaining({
          path: ['invoice'],
          message: `Source billing answered more than limits.maxResponseBytes (${MiB} bytes) (POST /invoices/batch-read); the rest of the answer was not read and the connection was closed`,
          extensions: expect.objectContaining({ code: 'SOURCE_BAD_RESPONSE', source: 'billing' }),
        }),
      ]);
    }
    const growth = process.memoryUsage().rss - rssBefore;
    // Three answers of 128 MiB each: read whole, one alone would add more than its size (the bytes and
    // their string). The margin is generous, for what the rest of the process allocates meanwhile.
    expect(growth).toBeLessThan(BODY_BYTES / 2);
    expect(flood.answers).toHaveLength(4);
    await Promise.all(flood.answers.map((answer) => answer.over));
    for (const answer of flood.answers) {
      expect(answer.cutOff).toBe(true);
      // What the socket buffers hold besides the 1 MiB read: far short of the body.
      expect(answer.written).toBeLessThan(BODY_BYTES / 8);
    }

    expect((await fetch(`${h.origin}/healthz`)).status).toBe(200);
    const served = await h.graphql<{ customers: { nodes: unknown[] } }>('{ customers(first: 1) { nodes { id } } }');
    expect(served.errors).toBeUndefined();
    expect(served.data?.customers.nodes).toHaveLength(1);
    await h.registry.removeSource('billing', 'admin');
  });

  it('bounds a token endpoint\'s answer too', async () => {
    const http = new SourceHttpClient(
      'ledger',
      sourceDefinition.parse({
        baseUrl: `http://127.0.0.1:${flood.port}/api`,
        auth: { type: 'oauth2ClientCredentials', tokenUrl: '/oauth/token', clientId: 'gateway', clientSecret: { env: 'LEDGER_SECRET' } },
        limits: { retry: false },
        entities: {},
      }),
      { LEDGER_SECRET: 'ledger-secret' },
    );
    try {
      const before = flood.answers.length;
      await expect(http.getJson('/entries', 'GET /entries', 1)).rejects.toMatchObject({
        code: 'SOURCE_BAD_RESPONSE',
        message: `Source ledger could not authenticate (GET /entries): the token endpoint of source ledger answered more than ${MAX_TOKEN_RESPONSE_BYTES} bytes`,
      });
      // Only the token endpoint was asked, and it was cut off.
      const asked = flood.answers.slice(before);
      await Promise.all(asked.map((answer) => answer.over));
      expect(asked).toEqual([expect.objectContaining({ cutOff: true })]);
    } finally {
      await http.close();
    }
  });
});
