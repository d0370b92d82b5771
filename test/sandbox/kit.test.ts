import { request } from 'node:http';
import { RingBuffer } from '../../sources/sandbox/ring-buffer';
import { allocate, createRandom, streamSeed } from '../../sources/sandbox/random';
import { route, Router } from '../../sources/sandbox/router';
import { startSandbox, type SandboxHandle, type SandboxOptions } from '../../sources/sandbox/server';
import { UNMATCHED_ROUTE } from '../../sources/sandbox/stats';
import { DEFAULT_KNOBS } from '../../sources/sandbox/faults';
import { ManualClock } from '../support/manual-clock';
import { expectDelay } from './delays';
import { fetchJson, postJson, countsOf } from './http';

/** A three-route system, enough to exercise the shell without any dataset. */
function startToy(options: SandboxOptions = {}): Promise<SandboxHandle> {
  return startSandbox(
    {
      name: 'toy',
      routes: [
        route('GET /things/{id}', ({ params }) => ({ status: 200, body: { id: params.id } })),
        route('POST /things', ({ body }) => ({ status: 201, body: { received: body } })),
        route('GET /boom', () => {
          throw new Error('kaput');
        }),
      ],
      openapi: { openapi: '3.0.3' },
      errorBody: (code, message) => ({ toyError: code, message }),
    },
    options,
  );
}

describe('random', () => {
  it('is deterministic per seed and differs across seeds and streams', () => {
    const draw = (seed: number) => Array.from({ length: 5 }, createRandom(seed).next);
    expect(draw(1)).toEqual(draw(1));
    expect(draw(1)).not.toEqual(draw(2));
    expect(streamSeed(42, 'crm')).not.toBe(streamSeed(42, 'orders'));
  });

  it('allocates exactly the total and never to zero weights', () => {
    const counts = allocate(createRandom(7), [0, 1, 3, 0, 6], 1000);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(1000);
    expect(counts[0]).toBe(0);
    expect(counts[3]).toBe(0);
    expect(counts[4]).toBeGreaterThan(counts[1] as number);
  });
});

describe('RingBuffer', () => {
  it('keeps the last items, oldest first', () => {
    const ring = new RingBuffer<number>(3);
    [1, 2, 3, 4, 5].forEach((n) => ring.push(n));
    expect(ring.toArray()).toEqual([3, 4, 5]);
    ring.clear();
    expect(ring.toArray()).toEqual([]);
  });
});

describe('Router', () => {
  const router = new Router([route('GET /a/{id}', () => ({ status: 200, body: null })), route('POST /a/{id}', () => ({ status: 200, body: null }))]);

  it('matches templates and decodes parameters', () => {
    const match = router.match('GET', '/a/x%20y');
    expect(match.kind === 'found' && match.params).toEqual({ id: 'x y' });
    expect(router.match('GET', '/a/').kind).toBe('not-found');
    expect(router.match('GET', '/a/b/c').kind).toBe('not-found');
    expect(router.match('GET', '/a/%E0%A4%A').kind).toBe('bad-path');
    expect(router.match('DELETE', '/a/1')).toEqual({ kind: 'method-not-allowed', allow: ['GET', 'POST'] });
  });

  it('rejects malformed and duplicate templates when they are declared', () => {
    expect(() => route('GET a/b', () => ({ status: 200, body: null }))).toThrow(/route template/);
    expect(() => route('GET /a/x{id}', () => ({ status: 200, body: null }))).toThrow(/whole segment/);
    const twice = route('GET /a', () => ({ status: 200, body: null }));
    expect(() => new Router([twice, twice])).toThrow(/declared twice/);
  });
});

describe('sandbox server shell', () => {
  let toy: SandboxHandle;
  let clock: ManualClock;
  beforeEach(async () => {
    clock = new ManualClock();
    toy = await startToy({ clock });
  });
  afterEach(() => toy.close());

  it('listens on an ephemeral loopback port', () => {
    expect(toy.port).toBeGreaterThan(0);
    expect(toy.url).toBe(`http://127.0.0.1:${toy.port}`);
    expect(toy.routes).toEqual(['GET /things/{id}', 'POST /things', 'GET /boom', 'GET /openapi.json']);
  });

  it('answers routes as JSON and counts them by template', async () => {
    const one = await fetchJson(`${toy.url}/things/1`);
    expect(one.status).toBe(200);
    expect(one.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(one.body).toEqual({ id: '1' });
    await fetchJson(`${toy.url}/things/2?x=1`);
    expect((await postJson(`${toy.url}/things`, { a: 1 })).body).toEqual({ received: '{"a":1}' });
    await fetchJson(`${toy.url}/openapi.json`);
    expect(countsOf(toy)).toEqual({
      total: 4,
      byRoute: { 'GET /things/{id}': 2, 'POST /things': 1, 'GET /openapi.json': 1 },
    });
  });

  it('answers unknown routes with 404 and wrong methods with 405, in the system error format, counted as unmatched', async () => {
    const missing = await fetchJson(`${toy.url}/nothing`);
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ toyError: 'NOT_FOUND', message: 'no route for GET /nothing' });
    const wrong = await fetchJson(`${toy.url}/things/1`, { method: 'DELETE' });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('GET');
    expect(wrong.body).toMatchObject({ toyError: 'METHOD_NOT_ALLOWED' });
    expect(countsOf(toy)).toEqual({ total: 2, byRoute: { [UNMATCHED_ROUTE]: 2 } });
  });

  it('turns a failing handler into a 500 in the system error format', async () => {
    const reply = await fetchJson(`${toy.url}/boom`);
    expect(reply.status).toBe(500);
    expect(reply.body).toMatchObject({ toyError: 'INTERNAL', message: expect.stringContaining('kaput') });
  });

  it('rejects request targets that are not paths', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: toy.port, path: '//evil/x' }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(400);
  });

  it('serves control endpoints without counting them', async () => {
    await fetchJson(`${toy.url}/things/1`);
    const stats = await fetchJson(`${toy.url}/_sandbox/stats`);
    expect(stats.body).toEqual({ total: 1, byRoute: { 'GET /things/{id}': 1 }, peakInFlight: 1, tokenRequests: 0 });
    expect((await fetchJson(`${toy.url}/_sandbox/knobs`)).body).toEqual(DEFAULT_KNOBS);
    const reset = await fetchJson(`${toy.url}/_sandbox/reset`, { method: 'POST' });
    expect(reset.status).toBe(204);
    expect(countsOf(toy)).toEqual({ total: 0, byRoute: {} });
    expect((await fetchJson(`${toy.url}/_sandbox/nope`)).status).toBe(404);
    const wrong = await fetchJson(`${toy.url}/_sandbox/reset`);
    expect(wrong.status).toBe(405);
    expect(wrong.body).toMatchObject({ error: 'method_not_allowed' });
    expect(countsOf(toy)).toEqual({ total: 0, byRoute: {} });
  });

  it('validates knobs before applying any', async () => {
    const bad = [{ latencyMs: -1 }, { latencyMs: 'slow' }, { latencyMs: 5, errorRate: 2 }, { latencyMs: 5, chaos: 1 }, { errorRate: { every: 0 } }, [1], 'x'];
    for (const body of bad) {
      const reply = await postJson(`${toy.url}/_sandbox/knobs`, body);
      expect(reply.status).toBe(400);
      expect(reply.body).toMatchObject({ error: 'invalid_knobs' });
    }
    const garbage = await fetchJson(`${toy.url}/_sandbox/knobs`, { method: 'POST', body: '{nope' });
    expect(garbage.body).toMatchObject({ error: 'invalid_json' });
    expect((await fetchJson(`${toy.url}/_sandbox/knobs`)).body).toEqual(DEFAULT_KNOBS);
    expect(() => toy.setLatency(Number.NaN)).toThrow(/latencyMs/);
  });

  it('delays every non-control request by the latency knob', async () => {
    const delayedBy = async (path: string, ms: number): Promise<number> => {
      const reply = fetchJson(`${toy.url}${path}`);
      await expectDelay(clock, ms);
      return (await reply).status;
    };
    toy.setLatency(60);
    expect(await delayedBy('/things/1', 60)).toBe(200);
    expect(await delayedBy('/nothing', 60)).toBe(404);
    // The control endpoint itself is never delayed: it answers with the clock standing still.
    const knobs = await postJson(`${toy.url}/_sandbox/knobs`, { latencyMs: 120 });
    expect(knobs.body).toMatchObject({ latencyMs: 120 });
    expect(await delayedBy('/things/1', 120)).toBe(200);
    await postJson(`${toy.url}/_sandbox/knobs`, { latencyMs: 0 });
  });

  it('records traceparent headers in a bounded buffer, cleared by resetStats', async () => {
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    await fetchJson(`${toy.url}/things/1`, { headers: { traceparent } });
    await fetchJson(`${toy.url}/things/2`);
    await fetchJson(`${toy.url}/_sandbox/stats`, { headers: { traceparent: 'control-is-not-recorded' } });
    expect(toy.receivedTraceparents()).toEqual([traceparent]);
    toy.resetStats();
    expect(toy.receivedTraceparents()).toEqual([]);
  });
});

describe('closing', () => {
  it('ends keep-alive sockets and pending delayed requests, and is idempotent', async () => {
    const clock = new ManualClock();
    const toy = await startToy({ clock });
    await fetchJson(`${toy.url}/things/1`); // leaves a keep-alive socket open in fetch's pool
    toy.setLatency(10_000);
    const pending = fetch(`${toy.url}/things/2`).then(
      () => 'answered',
      () => 'dropped',
    );
    await clock.untilTimers(1); // the request is waiting out its latency
    // Closing does not wait for the delay (the clock never moves here) and cancels it.
    await Promise.all([toy.close(), toy.close()]);
    expect(clock.pendingTimers()).toBe(0);
    expect(await pending).toBe('dropped');
    await expect(fetch(`${toy.url}/things/1`)).rejects.toThrow();
  });

  it('fails to start on a port in use, with the listen error', async () => {
    const first = await startToy();
    try {
      await expect(startSandbox({ name: 'x', routes: [], openapi: {}, errorBody: () => ({}) }, { port: first.port })).rejects.toThrow(/EADDRINUSE/);
    } finally {
      await first.close();
    }
  });
});
