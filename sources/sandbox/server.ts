/**
 * The HTTP shell shared by every sandbox system: routing, JSON replies, request counting by route
 * template, the latency knob, `traceparent` capture, the OpenAPI route and the `/_sandbox/*`
 * control endpoints. A system supplies only its routes, its OpenAPI document and the shape of its
 * own error bodies.
 */
import { setMaxListeners } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { CONTROL_PREFIX, controlError, controlRouter } from './control';
import { readBody, requestUrl, sendJson } from './http';
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
}

/** A running sandbox system. */
export interface SandboxHandle {
  /** Origin, e.g. `http://127.0.0.1:41234`, without the system's base path. */
  readonly url: string;
  readonly port: number;
  /** Every route template the system serves, `/openapi.json` included, control endpoints excluded. */
  readonly routes: readonly string[];
  stats(): SandboxStats;
  /** Zeroes the counters and forgets the recorded `traceparent` headers. */
  resetStats(): void;
  /** Sets the delay added to every non-control request, in milliseconds (finite, >= 0). */
  setLatency(ms: number): void;
  /** The `traceparent` headers of the last requests that carried one (at most 1000), oldest first. */
  receivedTraceparents(): string[];
  /** Stops listening and destroys open keep-alive sockets; requests still waiting out their latency are dropped. */
  close(): Promise<void>;
}

/** Failures the shell answers by itself, which each system words in its own error format. */
export type ShellErrorCode = 'NOT_FOUND' | 'METHOD_NOT_ALLOWED' | 'BAD_REQUEST' | 'PAYLOAD_TOO_LARGE' | 'INTERNAL';

/** What makes one system; everything else is shared. */
export interface SandboxSystem {
  /** Short name used in messages, e.g. `crm`. */
  readonly name: string;
  readonly routes: readonly Route[];
  /** Served as is at `GET /openapi.json`. */
  readonly openapi: unknown;
  /** The body of a shell-level error in this system's own format. */
  errorBody(code: ShellErrorCode, message: string): unknown;
}

const OPENAPI_ROUTE = 'GET /openapi.json';
const TRACEPARENT_CAPACITY = 1000;
const MAX_BODY_BYTES = 64 * 1024;

const SHELL_STATUS: Record<ShellErrorCode, number> = {
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  BAD_REQUEST: 400,
  PAYLOAD_TOO_LARGE: 413,
  INTERNAL: 500,
};

export async function startSandbox(system: SandboxSystem, options: SandboxOptions = {}): Promise<SandboxHandle> {
  const { port = 0, host = '127.0.0.1' } = options;
  let latencyMs = checkLatency(options.latencyMs ?? 0);
  const setLatency = (ms: number): void => {
    latencyMs = checkLatency(ms);
  };
  const router = new Router([...system.routes, route(OPENAPI_ROUTE, () => ({ status: 200, body: system.openapi }))]);
  const counter = new RequestCounter();
  const traceparents = new RingBuffer<string>(TRACEPARENT_CAPACITY);
  const resetStats = (): void => {
    counter.reset();
    traceparents.clear();
  };
  const control = controlRouter({
    stats: () => counter.snapshot(),
    resetStats,
    knobs: () => ({ latencyMs }),
    setLatency,
  });
  // Aborted on close, so that requests sleeping out their latency do not hold timers open.
  const closing = new AbortController();
  // Every request sleeping out its latency listens on this one signal; there may be hundreds.
  setMaxListeners(0, closing.signal);

  const systemError = (code: ShellErrorCode, message: string): JsonReply => ({
    status: SHELL_STATUS[code],
    body: system.errorBody(code, message),
  });

  async function serveSystem(request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> {
    const traceparent = request.headers.traceparent;
    if (typeof traceparent === 'string') traceparents.push(traceparent);
    const method = request.method ?? 'GET';
    const match = router.match(method, url.pathname);
    counter.count(match.kind === 'found' ? match.route.template : UNMATCHED_ROUTE);
    const leave = counter.enter();
    response.once('close', leave);
    try {
      if (latencyMs > 0) {
        try {
          await sleep(latencyMs, undefined, { signal: closing.signal });
        } catch {
          return; // closing: the socket is being destroyed, nobody is left to answer
        }
      }
      await dispatch(request, response, url, match, systemError);
    } finally {
      leave();
    }
  }

  async function dispatch(
    request: IncomingMessage,
    response: ServerResponse,
    url: URL,
    match: RouteMatch,
    error: (code: ShellErrorCode, message: string) => JsonReply,
  ): Promise<void> {
    const method = request.method ?? 'GET';
    switch (match.kind) {
      case 'found': {
        const body = await readBody(request, MAX_BODY_BYTES);
        if (body === undefined) {
          return sendJson(response, error('PAYLOAD_TOO_LARGE', `request bodies are limited to ${MAX_BODY_BYTES} bytes`));
        }
        let reply: JsonReply;
        try {
          reply = match.route.handle({ params: match.params, query: url.searchParams, body });
        } catch (thrown) {
          reply = error('INTERNAL', `${system.name} sandbox failed on ${match.route.template}: ${String(thrown)}`);
        }
        return sendJson(response, reply);
      }
      case 'method-not-allowed':
        return sendJson(
          response,
          error('METHOD_NOT_ALLOWED', `${method} is not allowed on ${url.pathname}; use ${match.allow.join(' or ')}`),
          { allow: match.allow.join(', ') },
        );
      case 'bad-path':
        return sendJson(response, error('BAD_REQUEST', `malformed percent-encoding in ${url.pathname}`));
      case 'not-found':
        return sendJson(response, error('NOT_FOUND', `no route for ${method} ${url.pathname}`));
    }
  }

  const controlErrorOf = (code: ShellErrorCode, message: string): JsonReply =>
    controlError(SHELL_STATUS[code], code.toLowerCase(), message);

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = requestUrl(request);
    if (url === undefined) {
      return sendJson(response, systemError('BAD_REQUEST', `malformed request target ${request.url ?? ''}`));
    }
    if (url.pathname.startsWith(CONTROL_PREFIX)) {
      return dispatch(request, response, url, control.match(request.method ?? 'GET', url.pathname), controlErrorOf);
    }
    return serveSystem(request, response, url);
  }

  const server = createServer((request, response) => {
    handle(request, response).catch((thrown: unknown) => {
      if (response.headersSent) response.destroy();
      else sendJson(response, systemError('INTERNAL', String(thrown)));
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;

  let closed: Promise<void> | undefined;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}`,
    port: bound,
    routes: router.routes.map((r) => r.template),
    stats: () => counter.snapshot(),
    resetStats,
    setLatency,
    receivedTraceparents: () => traceparents.toArray(),
    close: () => {
      closed ??= new Promise<void>((resolve, reject) => {
        closing.abort();
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
      return closed;
    },
  };
}

function checkLatency(ms: number): number {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
    throw new RangeError(`latencyMs must be a finite number >= 0, got ${String(ms)}`);
  }
  return ms;
}
