/**
 * The shell every vendor fixture shares: a real HTTP server on an ephemeral loopback port that
 * answers a vendor's documented routes, checks its credential, counts every call by route
 * template (the way the vendor documents the route, not per concrete URL), and can be told to
 * throttle the next calls with that vendor's own 429 (or whatever it answers when over its limit).
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Most bytes of a request body a fixture reads; vendors refuse larger bodies too. */
const MAX_BODY_BYTES = 1024 * 1024;

export interface VendorRequest {
  readonly method: string;
  /** The path without the query string. */
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  /** The body text; empty for GET. */
  readonly body: string;
  /** The fixture's own origin, for links and next-page URLs the vendor writes absolute. */
  readonly origin: string;
}

export interface VendorReply {
  readonly status: number;
  /** Serialized as JSON; no body when undefined. */
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface VendorRoute {
  /** `GET /api/v2/users/{id}/tickets/requested.json`: the matcher and the key calls are counted under. */
  readonly template: string;
  readonly handle: (request: VendorRequest, params: Readonly<Record<string, string>>) => VendorReply;
}

export interface VendorFixtureOptions {
  readonly routes: readonly VendorRoute[];
  /** The vendor's answer to a missing or wrong credential; undefined lets the call through. */
  readonly authorize: (headers: IncomingHttpHeaders) => VendorReply | undefined;
  /** The vendor's answer when a caller is over its rate limit. */
  readonly throttled: () => VendorReply;
  /** Headers the vendor puts on every answer (rate-limit counters); given the number of the call. */
  readonly everyAnswer?: (call: number) => Record<string, string>;
  /** The vendor's answer to an unknown path. */
  readonly notFound: () => VendorReply;
}

export interface VendorFixture {
  readonly origin: string;
  readonly port: number;
  /** Calls per route template since the last reset (unmatched paths under `(unmatched)`). */
  calls(): Record<string, number>;
  /** All calls since the last reset, throttled and refused ones included. */
  total(): number;
  /** The calls since the last reset, in arrival order (method, path with query, status answered). */
  readonly log: Array<{ method: string; url: string; status: number; body: string }>;
  /** The next `count` calls with a valid credential get the vendor's throttled answer. */
  throttleNext(count: number): void;
  reset(): void;
  close(): Promise<void>;
}

interface CompiledRoute {
  readonly route: VendorRoute;
  readonly method: string;
  readonly pattern: RegExp;
  readonly names: readonly string[];
}

function compile(route: VendorRoute): CompiledRoute {
  const match = /^(GET|POST) (\/\S*)$/.exec(route.template);
  if (!match) throw new TypeError(`a route template looks like 'GET /path/{param}', got '${route.template}'`);
  const names: string[] = [];
  const source = match[2]!
    .split(/(\{\w+\})/)
    .map((part) => {
      const param = /^\{(\w+)\}$/.exec(part);
      if (!param) return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      names.push(param[1]!);
      return '([^/]+)';
    })
    .join('');
  return { route, method: match[1]!, pattern: new RegExp(`^${source}$`), names };
}

export async function startVendorFixture(options: VendorFixtureOptions): Promise<VendorFixture> {
  const routes = options.routes.map(compile);
  let counts = new Map<string, number>();
  let throttle = 0;
  let calls = 0;
  const log: VendorFixture['log'] = [];
  let origin = '';

  const answer = (request: VendorRequest): { key: string; reply: VendorReply } => {
    const refused = options.authorize(request.headers);
    for (const compiled of routes) {
      const match = compiled.method === request.method ? compiled.pattern.exec(request.path) : null;
      if (!match) continue;
      const key = compiled.route.template;
      if (refused) return { key, reply: refused };
      if (throttle > 0) {
        throttle -= 1;
        return { key, reply: options.throttled() };
      }
      const params = Object.fromEntries(compiled.names.map((name, i) => [name, decodeURIComponent(match[i + 1]!)]));
      return { key, reply: compiled.route.handle(request, params) };
    }
    return { key: '(unmatched)', reply: refused ?? options.notFound() };
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => {
      const url = new URL(req.url ?? '/', origin);
      const request: VendorRequest = { method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), origin };
      calls += 1;
      const { key, reply } = size > MAX_BODY_BYTES ? { key: '(too large)', reply: { status: 413 } } : answer(request);
      counts.set(key, (counts.get(key) ?? 0) + 1);
      log.push({ method: request.method, url: `${url.pathname}${url.search}`, status: reply.status, body: request.body });
      const text = reply.body === undefined ? '' : JSON.stringify(reply.body);
      res.writeHead(reply.status, {
        ...options.everyAnswer?.(calls),
        ...reply.headers,
        ...(reply.body === undefined ? {} : { 'content-type': 'application/json; charset=utf-8' }),
        'content-length': Buffer.byteLength(text),
      });
      res.end(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  origin = `http://127.0.0.1:${port}`;
  return {
    origin,
    port,
    calls: () => Object.fromEntries(counts),
    total: () => [...counts.values()].reduce((a, b) => a + b, 0),
    log,
    throttleNext(count) {
      throttle = count;
    },
    reset() {
      counts = new Map();
      log.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A bearer credential check: the vendor's refusal unless `Authorization: Bearer <token>`. */
export function bearer(token: string, refusal: () => VendorReply): VendorFixtureOptions['authorize'] {
  return (headers) => (headers.authorization === `Bearer ${token}` ? undefined : refusal());
}

/** Deterministic pseudo-random numbers (mulberry32), so every run seeds the same data. */
export function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** A comma-separated query parameter as its values (none when absent or empty). */
export function csv(value: string | null): string[] {
  return value ? value.split(',').filter((part) => part !== '') : [];
}

/** An integer query parameter within [min, max], the default when absent; undefined when invalid. */
export function intParam(value: string | null, fallback: number, min: number, max: number): number | undefined {
  if (value === null) return fallback;
  if (!/^[0-9]+$/.test(value)) return undefined;
  const n = Number(value);
  return n < min || n > max ? undefined : n;
}
