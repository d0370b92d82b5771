/**
 * The HTTP shell shared by every sandbox system: routing, JSON replies, request counting by route
 * template, authentication, the fault knobs (latency, errors, 429s, spikes, outages, slow and
 * malformed bodies, records that break the contract), `traceparent` capture, the OpenAPI route and
 * the `/_sandbox/*` control endpoints. A system supplies only its routes, its OpenAPI document, the
 * shape of its own error bodies and where its records sit in its answers.
 */
import { setMaxListeners } from 'node:events';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { systemClock, type TimerClock } from '../../src/time/clock';
import { AuthGuard, TOKEN_PATH, type SandboxAuth } from './auth';
import { CONTROL_PREFIX, controlError, controlRouter } from './control';
import { breakRecord, DEFAULT_KNOBS, FaultSchedule, parseKnobChange, type KnobChange, type Knobs, type RecordContract } from './faults';
import { readBody, requestUrl, sendJson, sendText } from './http';
import { RingBuffer } from './ring-buffer';
import { route, Router, type JsonReply, type Route, type RouteMatch } from './router';
import { RequestCounter, UNMATCHED_ROUTE, type SandboxStats } from './stats';

/** Where and how to start one sandbox system. */
export interface SandboxOptions {
  /** TCP port; 0 (the default) picks a free one, which tests and benchmarks should use. */
  port?: number;
  /** Interface to listen on; default `127.0.0.1` (loopback only). */
  host?: string;
  /** Delay added to every request except the control endpoints, in milliseconds; default 0. */
  latencyMs?: number;
  /** Fault knobs to start with (an outage can only begin once the system runs); see faults.ts. */
  knobs?: Omit<KnobChange, 'outageMs'>;
  /** How the system authenticates callers; each system has its own default. */
  auth?: SandboxAuth;
  /**
   * What the latency, spike, slow-body and outage knobs wait on and token lifetimes are read from;
   * default the process's clock. Tests move a manual one instead of waiting the delays out.
   */
  clock?: TimerClock;
}

/** A running sandbox system. */
export interface SandboxHandle {
  /** Origin, e.g. `http://127.0.0.1:41234`, without the system's base path. */
  readonly url: string;
  readonly port: number;
  /** Every route template the system serves, `/openapi.json` (and the token endpoint) included, control endpoints excluded. */
  readonly routes: readonly string[];
  stats(): SandboxStats;
  /** Resolves with the route template of the next request that arrives (counted before any latency delay). */
  nextRequest(): Promise<string>;
  /** Zeroes the counters and forgets the recorded `traceparent` headers and received headers. */
  resetStats(): void;
  knobs(): Knobs;
  /**
   * Changes fault knobs; the whole change is checked first (a RangeError names the problem and
   * nothing changes). Resolves once an outage has begun or ended, when the change starts or ends one.
   */
  setKnobs(change: KnobChange): Promise<Knobs>;
  /** Sets the delay added to every non-control request, in milliseconds (finite, >= 0). */
  setLatency(ms: number): void;
  /** OAuth systems: every token issued so far stops working. */
  revokeTokens(): void;
  /** OAuth systems: the tokens issued that still work (secrets: for tests that prove none leaks). */
  liveTokens(): string[];
  /** The `traceparent` headers of the last requests that carried one (at most 1000), oldest first. */
  receivedTraceparents(): string[];
  /**
   * The headers of the last requests to the system's own routes (at most 1000), oldest first:
   * what a test reads to see which credentials reached the system, and that a client's never did.
   */
  receivedHeaders(): IncomingHttpHeaders[];
  /** Resolves once the system listens: at once, or when the outage under way has ended (never after close). */
  listening(): Promise<void>;
  /** Stops listening and destroys open keep-alive sockets; requests still waiting out their latency are dropped. */
  close(): Promise<void>;
}

/** Failures the shell answers by itself, which each system words in its own error format. */
export type ShellErrorCode = 'NOT_FOUND' | 'METHOD_NOT_ALLOWED' | 'BAD_REQUEST' | 'PAYLOAD_TOO_LARGE' | 'INTERNAL' | 'UNAUTHORIZED' | 'RATE_LIMITED' | 'UNAVAILABLE';

/** Where a system's records sit in its answers, so that the `badRecordRate` knob can break some. */
export interface SystemRecords {
  readonly contract: RecordContract;
  /** A copy of the answer body with `f` applied to each record in it; the body itself is never changed. */
  map(body: unknown, f: (record: unknown) => unknown): unknown;
}

/** What makes one system; everything else is shared. */
export interface SandboxSystem {
  /** Short name used in messages, e.g. `crm`. */
  readonly name: string;
  readonly routes: readonly Route[];
  /** Served as is at `GET /openapi.json`. */
  readonly openapi: unknown;
  /** The body of a shell-level error in this system's own format. */
  errorBody(code: ShellErrorCode, message: string): unknown;
  /** Absent: the `badRecordRate` knob has nothing to break. */
  readonly records?: SystemRecords;
  /** Used unless the options say otherwise; default none. */
  readonly defaultAuth?: SandboxAuth;
}

const OPENAPI_ROUTE = 'GET /openapi.json';
const TOKEN_ROUTE = `POST ${TOKEN_PATH}`;
const TRACEPARENT_CAPACITY = 1000;
const MAX_BODY_BYTES = 64 * 1024;
/** A slow body arrives in this many pieces, spread evenly over `slowBodyMs`. */
const SLOW_BODY_PIECES = 10;

/**
 * The process's clock with timers that hold the process open, as Node's own do: a system in an
 * outage listens on nothing, and only its timer keeps a sandbox-only process alive until it is back.
 */
const processClock: TimerClock = {
  now: systemClock.now,
  wallNow: systemClock.wallNow,
  setTimer: (ms, callback) => {
    const timer = setTimeout(callback, ms);
    return () => clearTimeout(timer);
  },
};

/** A reply and the headers that go with it. */
interface Answer {
  reply: JsonReply;
  headers?: Record<string, string>;
}

const SHELL_STATUS: Record<ShellErrorCode, number> = {
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  BAD_REQUEST: 400,
  PAYLOAD_TOO_LARGE: 413,
  INTERNAL: 500,
  UNAUTHORIZED: 401,
  RATE_LIMITED: 429,
  UNAVAILABLE: 503,
};

function listen(server: ReturnType<typeof createServer>, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

export async function startSandbox(system: SandboxSystem, options: SandboxOptions = {}): Promise<SandboxHandle> {
  const { port = 0, host = '127.0.0.1', clock = processClock } = options;
  const initial = parseKnobChange({ ...(options.latencyMs !== undefined ? { latencyMs: options.latencyMs } : {}), ...options.knobs });
  if (!initial.ok) throw new RangeError(initial.message);
  let knobs: Knobs = { ...DEFAULT_KNOBS, ...initial.change, outageMs: 0 };
  const schedule = new FaultSchedule(knobs);
  const guard = new AuthGuard(options.auth ?? system.defaultAuth ?? { kind: 'none' }, clock);
  const systemRoutes = [...system.routes, route(OPENAPI_ROUTE, () => ({ status: 200, body: system.openapi }))];
  const router = new Router(systemRoutes);
  const counter = new RequestCounter();
  const traceparents = new RingBuffer<string>(TRACEPARENT_CAPACITY);
  const receivedHeaders = new RingBuffer<IncomingHttpHeaders>(TRACEPARENT_CAPACITY);

  // Aborted on close and at the start of an outage, so that requests sleeping out their latency
  // neither hold timers open nor answer after the system went away. Replaced after each outage.
  let interrupt = new AbortController();
  // Every request sleeping out its latency listens on this one signal; there may be hundreds.
  setMaxListeners(0, interrupt.signal);

  // Outage: not listening, every open connection destroyed; back on the same port afterwards.
  let listening = false;
  let closed = false;
  let outageUntil = 0;
  let cancelOutage: (() => void) | undefined;
  const cameUp: Array<() => void> = [];

  const systemError = (code: ShellErrorCode, message: string, status = SHELL_STATUS[code]): JsonReply => ({
    status,
    body: system.errorBody(code, message),
  });

  async function serveSystem(request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> {
    const traceparent = request.headers.traceparent;
    if (typeof traceparent === 'string') traceparents.push(traceparent);
    receivedHeaders.push({ ...request.headers });
    const method = request.method ?? 'GET';
    const match = router.match(method, url.pathname);
    counter.count(match.kind === 'found' ? match.route.template : UNMATCHED_ROUTE);
    const leave = counter.enter();
    response.once('close', leave);
    const { signal } = interrupt;
    try {
      const delayMs = knobs.latencyMs + (schedule.spike() ? knobs.spikeMs : 0);
      if (delayMs > 0) {
        // Closing or going down: the socket is being destroyed, nobody is left to answer.
        if (!(await delay(clock, delayMs, signal))) return;
      }
      // The API description is public, as it usually is; everything else asks for credentials.
      const refused = match.kind === 'found' && match.route.template === OPENAPI_ROUTE ? undefined : guard.check(request.headers);
      if (refused) {
        return sendJson(response, systemError('UNAUTHORIZED', refused.reason), refused.challenge ? { 'www-authenticate': refused.challenge } : {});
      }
      if (schedule.rateLimited()) {
        return sendJson(response, systemError('RATE_LIMITED', 'too many requests; retry after the time in Retry-After'), { 'retry-after': String(knobs.retryAfterSeconds) });
      }
      if (schedule.error()) return sendJson(response, systemError('UNAVAILABLE', `${system.name} is failing on purpose (errorRate knob)`, knobs.errorStatus));
      const reply = await answer(request, url, match, systemError);
      await sendAnswer(response, reply, signal);
    } finally {
      leave();
    }
  }

  /** Sends an answer as the knobs say: records broken, body cut off, body trickled. */
  async function sendAnswer(response: ServerResponse, { reply, headers }: Answer, signal: AbortSignal): Promise<void> {
    const ok = reply.status >= 200 && reply.status < 300 && reply.body !== undefined;
    let body = reply.body;
    const records = system.records;
    if (ok && records && schedule.breaksRecords()) {
      body = records.map(body, (record) => {
        const verdict = schedule.badRecord();
        return verdict.broken ? breakRecord(record, records.contract, verdict.nth) : record;
      });
    }
    let text = body === undefined ? undefined : JSON.stringify(body);
    if (ok && text !== undefined && schedule.malformed()) text = text.slice(0, Math.floor(text.length / 2));
    if (text === undefined) return sendJson(response, reply, headers);
    if (knobs.slowBodyMs <= 0) return sendText(response, reply.status, text, headers);
    await sendSlowly(response, reply.status, text, headers, knobs.slowBodyMs, clock, signal);
  }

  async function answer(
    request: IncomingMessage,
    url: URL,
    match: RouteMatch,
    error: (code: ShellErrorCode, message: string) => JsonReply,
  ): Promise<Answer> {
    const method = request.method ?? 'GET';
    switch (match.kind) {
      case 'found': {
        const body = await readBody(request, MAX_BODY_BYTES);
        if (body === undefined) return { reply: error('PAYLOAD_TOO_LARGE', `request bodies are limited to ${MAX_BODY_BYTES} bytes`) };
        try {
          return { reply: match.route.handle({ params: match.params, query: url.searchParams, body }) };
        } catch (thrown) {
          return { reply: error('INTERNAL', `${system.name} sandbox failed on ${match.route.template}: ${String(thrown)}`) };
        }
      }
      case 'method-not-allowed':
        return {
          reply: error('METHOD_NOT_ALLOWED', `${method} is not allowed on ${url.pathname}; use ${match.allow.join(' or ')}`),
          headers: { allow: match.allow.join(', ') },
        };
      case 'bad-path':
        return { reply: error('BAD_REQUEST', `malformed percent-encoding in ${url.pathname}`) };
      case 'not-found':
        return { reply: error('NOT_FOUND', `no route for ${method} ${url.pathname}`) };
    }
  }

  /** The token endpoint: not counted by route, never delayed or faulted (it stands for another server). */
  async function serveToken(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (request.method !== 'POST') return sendJson(response, { status: 405, body: { error: 'invalid_request' } }, { allow: 'POST' });
    const body = await readBody(request, MAX_BODY_BYTES);
    const reply = guard.issueToken(request.headers, body ?? '');
    return sendJson(response, { status: reply.status, body: reply.body }, reply.headers);
  }

  const controlErrorOf = (code: ShellErrorCode, message: string): JsonReply => controlError(SHELL_STATUS[code], code.toLowerCase(), message);

  function currentKnobs(): Knobs {
    return { ...knobs, outageMs: Math.max(0, outageUntil - clock.now()) };
  }

  /** Applies every knob but the outage, and restarts the fault schedule from the seed. */
  function applyKnobs(change: KnobChange): void {
    knobs = { ...knobs, ...change };
    schedule.reset(knobs);
  }

  async function goDown(): Promise<void> {
    if (!listening) return;
    listening = false;
    interrupt.abort();
    interrupt = new AbortController();
    setMaxListeners(0, interrupt.signal);
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  async function comeUp(): Promise<void> {
    if (listening || closed) return;
    await listen(server, bound, host);
    listening = true;
    for (const resolve of cameUp.splice(0)) resolve();
  }

  /** Starts (ms > 0) or ends (ms = 0) an outage; an outage ends by itself after `ms`. */
  async function setOutage(ms: number): Promise<void> {
    cancelOutage?.();
    outageUntil = ms > 0 ? clock.now() + ms : 0;
    if (ms <= 0) return comeUp();
    cancelOutage = clock.setTimer(ms, () => {
      outageUntil = 0;
      comeUp().catch((error: unknown) => process.stderr.write(`${system.name} sandbox could not listen again on port ${bound}: ${String(error)}\n`));
    });
    await goDown();
  }

  let pendingOutageMs: number | undefined;
  const control = controlRouter({
    stats,
    resetStats,
    knobs: currentKnobs,
    applyFromControl: (change) => {
      const { outageMs, ...rest } = change;
      applyKnobs(rest);
      pendingOutageMs = outageMs;
      return { ...currentKnobs(), ...(outageMs !== undefined ? { outageMs } : {}) };
    },
    revokeTokens: () => guard.revokeTokens(),
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = requestUrl(request);
    if (url === undefined) {
      return sendJson(response, systemError('BAD_REQUEST', `malformed request target ${request.url ?? ''}`));
    }
    if (url.pathname.startsWith(CONTROL_PREFIX)) {
      const { reply, headers } = await answer(request, url, control.match(request.method ?? 'GET', url.pathname), controlErrorOf);
      const outageMs = pendingOutageMs;
      pendingOutageMs = undefined;
      // The control answer must leave before the connection it travels on is destroyed.
      if (outageMs !== undefined) response.once('finish', () => void setOutage(outageMs));
      return sendJson(response, reply, headers);
    }
    if (guard.issuesTokens && url.pathname === TOKEN_PATH) return serveToken(request, response);
    return serveSystem(request, response, url);
  }

  function stats(): SandboxStats {
    return { ...counter.snapshot(), tokenRequests: guard.tokenRequests };
  }

  function resetStats(): void {
    counter.reset();
    guard.tokenRequests = 0;
    traceparents.clear();
    receivedHeaders.clear();
  }

  const server = createServer((request, response) => {
    handle(request, response).catch((thrown: unknown) => {
      if (response.headersSent) response.destroy();
      else sendJson(response, systemError('INTERNAL', String(thrown)));
    });
  });

  await listen(server, port, host);
  listening = true;
  const bound = (server.address() as AddressInfo).port;

  let closing: Promise<void> | undefined;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}`,
    port: bound,
    routes: [...router.routes.map((r) => r.template), ...(guard.issuesTokens ? [TOKEN_ROUTE] : [])],
    stats,
    nextRequest: () => counter.next(),
    resetStats,
    knobs: currentKnobs,
    setKnobs: async (change) => {
      const checked = parseKnobChange(change);
      if (!checked.ok) throw new RangeError(checked.message);
      const { outageMs, ...rest } = checked.change;
      applyKnobs(rest);
      if (outageMs !== undefined) await setOutage(outageMs);
      return currentKnobs();
    },
    setLatency: (ms) => {
      const checked = parseKnobChange({ latencyMs: ms });
      if (!checked.ok) throw new RangeError(checked.message);
      applyKnobs(checked.change);
    },
    revokeTokens: () => guard.revokeTokens(),
    liveTokens: () => guard.liveTokens(),
    receivedTraceparents: () => traceparents.toArray(),
    receivedHeaders: () => receivedHeaders.toArray(),
    listening: () => (listening ? Promise.resolve() : new Promise<void>((resolve) => cameUp.push(resolve))),
    close: () => {
      closing ??= (async () => {
        closed = true;
        cancelOutage?.();
        await goDown();
      })();
      return closing;
    },
  };
}

/** Resolves true once `ms` have passed on `clock`, or false as soon as `signal` aborts (the timer cancelled). */
function delay(clock: TimerClock, ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = () => {
      cancel();
      resolve(false);
    };
    const cancel = clock.setTimer(ms, () => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    });
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Writes a JSON text in pieces spread over `overMs`; stops if the connection or the system goes away. */
async function sendSlowly(
  response: ServerResponse,
  status: number,
  text: string,
  headers: Record<string, string> | undefined,
  overMs: number,
  clock: TimerClock,
  signal: AbortSignal,
): Promise<void> {
  const payload = Buffer.from(text, 'utf8');
  response.writeHead(status, { ...headers, 'content-type': 'application/json; charset=utf-8', 'content-length': payload.length });
  response.flushHeaders();
  const size = Math.ceil(payload.length / SLOW_BODY_PIECES);
  for (let start = 0; start < payload.length; start += size) {
    if (!(await delay(clock, overMs / SLOW_BODY_PIECES, signal)) || response.destroyed) return;
    response.write(payload.subarray(start, start + size));
  }
  response.end();
}
