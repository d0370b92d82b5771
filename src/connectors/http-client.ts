import { errors as undiciErrors } from 'undici';
import type { AuthDefinition, SourceDefinition } from '../config/definition';
import { SourceError } from './errors';
import { resolveEnv } from '../config/env';
import { CallerContextPool } from './caller-context-pool';
import { withUpstreamRequest } from './upstream-request';

/** What one upstream call did, reported to whoever asked for it (explain, tests, metrics). */
export interface UpstreamCall {
  source: string;
  route: string;
  batchSize: number;
  status: number | 'error';
  startedAt: number;
  durationMs: number;
}

export type CallObserver = (call: UpstreamCall) => void;

export interface JsonResponse {
  status: number;
  body: unknown;
}

function authHeaders(auth: AuthDefinition, env: NodeJS.ProcessEnv): Record<string, string> {
  switch (auth.type) {
    case 'none':
      return {};
    case 'header':
      return { [auth.header.toLowerCase()]: resolveEnv(auth.value, env) };
    case 'bearer':
      return { authorization: `Bearer ${resolveEnv(auth.token, env)}` };
  }
}

/**
 * One undici pool per source: it caps concurrent connections at `limits.maxConcurrency` (requests
 * beyond it wait in the pool's queue, which is how a source without batch endpoints is protected)
 * and applies the source's timeouts to every call.
 */
export class SourceHttpClient {
  private readonly pool: CallerContextPool;
  private readonly basePath: string;
  private readonly headers: Record<string, string>;
  private readonly timeoutMs: number;
  private lastOutcome: { ok: boolean; code?: string; at: number } | undefined;

  constructor(
    readonly source: string,
    definition: SourceDefinition,
    env: NodeJS.ProcessEnv = process.env,
  ) {
    const base = new URL(resolveEnv(definition.baseUrl, env));
    this.basePath = base.pathname.replace(/\/$/, '');
    this.timeoutMs = definition.limits.timeoutMs;
    this.headers = { accept: 'application/json', ...authHeaders(definition.auth, env) };
    this.pool = new CallerContextPool(base.origin, {
      connections: definition.limits.maxConcurrency,
      connect: { timeout: definition.limits.connectTimeoutMs },
      headersTimeout: definition.limits.timeoutMs,
      bodyTimeout: definition.limits.timeoutMs,
    });
  }

  /** GET a JSON document. `route` is the path template, used in errors and telemetry instead of the URL. */
  async getJson(pathAndQuery: string, route: string, batchSize: number, observe?: CallObserver): Promise<JsonResponse> {
    const startedAt = performance.now();
    let status: number | 'error' = 'error';
    let failure: SourceError | undefined;
    try {
      const response = await withUpstreamRequest({ source: this.source, route, basePath: this.basePath, batchSize, attempt: 1 }, () =>
        this.pool.request({
          method: 'GET',
          path: this.basePath + pathAndQuery,
          headers: this.headers,
          signal: AbortSignal.timeout(this.timeoutMs),
        }),
      );
      status = response.statusCode;
      const text = await response.body.text();
      if (status === 404) return { status, body: safeParse(text) };
      if (status === 429) throw new SourceError('SOURCE_RATE_LIMITED', this.source, route, `Source ${this.source} is rate limiting the gateway (${route} answered 429); try again shortly`, status);
      if (status >= 500) throw new SourceError('SOURCE_UNAVAILABLE', this.source, route, `Source ${this.source} failed (${route} answered ${status})`, status);
      if (status >= 400) throw new SourceError('SOURCE_REJECTED_REQUEST', this.source, route, `Source ${this.source} rejected the request (${route} answered ${status}); check the source definition`, status);
      const body = safeParse(text);
      if (body === undefined) throw new SourceError('SOURCE_BAD_RESPONSE', this.source, route, `Source ${this.source} sent a body that is not JSON (${route})`, status);
      return { status, body };
    } catch (error) {
      failure = this.classify(error, route);
      throw failure;
    } finally {
      this.lastOutcome = { ok: failure === undefined, code: failure?.code, at: Date.now() };
      observe?.({ source: this.source, route, batchSize, status, startedAt, durationMs: performance.now() - startedAt });
    }
  }

  private classify(error: unknown, route: string): SourceError {
    if (error instanceof SourceError) return error;
    const timedOut =
      error instanceof undiciErrors.HeadersTimeoutError ||
      error instanceof undiciErrors.BodyTimeoutError ||
      error instanceof undiciErrors.ConnectTimeoutError ||
      (error instanceof DOMException && error.name === 'TimeoutError');
    if (timedOut) return new SourceError('SOURCE_TIMEOUT', this.source, route, `Source ${this.source} did not answer within ${this.timeoutMs} ms (${route})`);
    const reason = error instanceof Error && 'code' in error ? String(error.code) : 'connection failed';
    return new SourceError('SOURCE_UNAVAILABLE', this.source, route, `Source ${this.source} is unreachable (${reason}) for ${route}`);
  }

  /** The outcome of the latest call, for readiness reports (no URL, no credentials). */
  health(): { state: 'unknown' | 'up' | 'failing'; lastErrorCode?: string; lastCallAt?: string } {
    const last = this.lastOutcome;
    if (!last) return { state: 'unknown' };
    return { state: last.ok ? 'up' : 'failing', ...(last.code ? { lastErrorCode: last.code } : {}), lastCallAt: new Date(last.at).toISOString() };
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

function safeParse(text: string): unknown {
  if (text === '') return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
