import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';
import { AttemptTimeoutError, InterruptedAnswerError } from '../../../src/connectors/errors';
import { attempt, newCallRecord } from '../../../src/connectors/policies/attempt';
import { startFakeSource, type FakeSource } from '../../support/fake-source';
import { ManualClock } from '../../support/manual-clock';

describe('attempt', () => {
  let source: FakeSource | undefined;
  let pool: Pool | undefined;
  afterEach(async () => {
    await pool?.close();
    await source?.close();
    pool = source = undefined;
  });

  const get = async (p: Pool, timeoutMs: number, clock?: ManualClock) => {
    const record = newCallRecord();
    try {
      const response = await p.compose(attempt({ timeoutMs, ...(clock ? { clock } : {}) })).request({ method: 'GET', path: '/x', opaque: record });
      return { status: response.statusCode, body: await response.body.text(), record };
    } catch (error) {
      return { error, record };
    }
  };

  it('counts the attempt and bounds it, from leaving on a connection, not from waiting for one', async () => {
    source = await startFakeSource(() => ({ delayMs: 50 }));
    pool = new Pool(source.origin, { connections: 1 });
    const clock = new ManualClock();
    const outcomes = Promise.all([get(pool, 700, clock), get(pool, 700, clock), get(pool, 700, clock)]);
    // One request is on the only connection, and only its attempt is timed: the two others wait
    // for the connection with no clock running for them.
    await clock.untilTimers(1);
    expect(clock.pendingTimers()).toBe(1);
    // Most of the first attempt's time passes; each of the others still gets its whole 700 ms.
    clock.advance(699);
    for (const outcome of await outcomes) expect(outcome).toMatchObject({ status: 200, record: { attempts: 1 } });
    expect(clock.pendingTimers()).toBe(0);
  });

  it('fails an attempt with no answer within timeoutMs', async () => {
    source = await startFakeSource(() => ({ hang: true }));
    pool = new Pool(source.origin);
    const clock = new ManualClock();
    const outcome = get(pool, 100, clock);
    await clock.untilTimers(1);
    clock.advance(99);
    expect(clock.pendingTimers()).toBe(1);
    clock.advance(1);
    expect(await outcome).toMatchObject({ error: expect.any(AttemptTimeoutError), record: { attempts: 1 } });
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
