import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';
import { AttemptTimeoutError, InterruptedAnswerError } from '../../../src/connectors/errors';
import { attempt, newCallRecord } from '../../../src/connectors/policies/attempt';
import { startFakeSource, type FakeSource } from '../../support/fake-source';

describe('attempt', () => {
  let source: FakeSource | undefined;
  let pool: Pool | undefined;
  afterEach(async () => {
    await pool?.close();
    await source?.close();
    pool = source = undefined;
  });

  const get = async (p: Pool, timeoutMs: number) => {
    const record = newCallRecord();
    try {
      const response = await p.compose(attempt({ timeoutMs })).request({ method: 'GET', path: '/x', opaque: record });
      return { status: response.statusCode, body: await response.body.text(), record };
    } catch (error) {
      return { error, record };
    }
  };

  it('counts the attempt and bounds it, from leaving on a connection, not from waiting for one', async () => {
    source = await startFakeSource(() => ({ delayMs: 300 }));
    pool = new Pool(source.origin, { connections: 1 });
    const started = Date.now();
    // The third request waits ~600 ms for the only connection, then answers in ~300 ms: 900 ms in
    // all, within a 700 ms timeout because the wait does not count.
    const outcomes = await Promise.all([get(pool, 700), get(pool, 700), get(pool, 700)]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(890);
    for (const outcome of outcomes) expect(outcome).toMatchObject({ status: 200, record: { attempts: 1 } });
  });

  it('fails an attempt with no answer within timeoutMs', async () => {
    source = await startFakeSource(() => ({ hang: true }));
    pool = new Pool(source.origin);
    const started = Date.now();
    const outcome = await get(pool, 100);
    expect(outcome).toMatchObject({ error: expect.any(AttemptTimeoutError) });
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('stops a body that trickles past timeoutMs, as an answer interrupted halfway', async () => {
    const server = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': 100 });
      response.write('{"records": [');
      const timer = setInterval(() => (response.destroyed ? clearInterval(timer) : response.write(' ')), 50);
      response.on('close', () => clearInterval(timer));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    pool = new Pool(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    try {
      const outcome = await get(pool, 200);
      expect(outcome).toMatchObject({ error: expect.any(InterruptedAnswerError) });
      expect((outcome as { error: InterruptedAnswerError }).error.cause).toBeInstanceOf(AttemptTimeoutError);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('rejects a timeout that is not a positive number of milliseconds', () => {
    expect(() => attempt({ timeoutMs: 0 })).toThrow(/timeoutMs must be a positive integer of milliseconds/);
  });
});
