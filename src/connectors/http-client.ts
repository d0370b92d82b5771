import { errors as undiciErrors, type Dispatcher } from 'undici';
import type { SourceDefinition } from '../config/definition';
import { resolveEnv } from '../config/env';
import { BreakerOpenError, InterruptedAnswerError, RateLimitWaitError, SourceError, TokenRequestError, type SourceErrorCode } from './errors';
import { errorCode, failureKind } from './failures';
import { newCallRecord, type CallRecord } from './policies/attempt';
import type { BreakerReport } from './policies/circuit-breaker';
import { secretNames } from './policies/credentials';
import { createSourceDispatcher, type SourceDispatcher } from './source-dispatcher';
import { withUpstreamRequest } from './upstream-request';

/** What one upstream call did, reported to whoever asked for it (explain, tests, metrics). */
export interface UpstreamCall {
  source: string;
  route: string;
  batchSize: number;
  status: number | 'error';
  /** Attempts that went out to the source, retries included; 0 when a policy (an open breaker) refused the call. */
  attempts: number;
  startedAt: number;
  durationMs: number;
  /** Set when the upstream-call cache answered instead of the source (`attempts` is then 0). */
  cacheHit?: boolean;
  /** Age of the oldest cached value served, in milliseconds; only with `cacheHit`. */
  ageMs?: number;
  /** With `cacheHit`: the values were kept past their freshness and served because the source failed. */
  staleIfError?: boolean;
}

export type CallObserver = (call: UpstreamCall) => void;

export interface JsonResponse {
  status: number;
  body: unknown;
  /** How long the source says the answer stays fresh (`Cache-Control`): 0 for no-store or no-cache; absent when it says nothing. */
  maxAgeMs?: number;
}

/** Freshness from a `Cache-Control` header: `max-age` (or `s-maxage`), 0 for `no-store`/`no-cache`/`private`. */
export function maxAgeOf(header: string | string[] | undefined): number | undefined {
  const value = Array.isArray(header) ? header.join(',') : header;
  if (!value) return undefined;
  const directives = value.toLowerCase().split(',').map((part) => part.trim());
  if (directives.some((d) => d === 'no-store' || d === 'no-cache' || d === 'private')) return 0;
  // The gateway is a shared cache: s-maxage wins over max-age wherever it stands.
  const find = (pattern: RegExp) => directives.map((d) => pattern.exec(d)).find((m) => m !== null);
  const age = find(/^s-maxage=(\d+)$/) ?? find(/^max-age=(\d+)$/);
  return age ? Number(age[1]) * 1000 : undefined;
}

/** A source's state for readiness reports: no URL, no credentials. */
export interface SourceHealth {
  /** The outcome of the latest call: `unknown` before any. */
  state: 'unknown' | 'up' | 'failing';
  /** Absent when the source declares `breaker: false`. */
  breaker?: BreakerReport;
  /** The code of the latest failure, however long ago, and when it happened. */
  lastError?: { code: SourceErrorCode; at: string };
  lastCallAt?: string;
}

/**
 * The HTTP face of one source: GETs a JSON document through the source's dispatcher (its pool and
 * its policies, see source-dispatcher.ts) and turns every way that can fail into a `SourceError`
 * whose message names the source, the route template and how many attempts were made.
 */
export class SourceHttpClient {
  private readonly sourceDispatcher: SourceDispatcher;
  private readonly basePath: string;
  private readonly timeoutMs: number;
  private readonly secrets: string[];
  private lastCall: { ok: boolean; at: number } | undefined;
  private lastError: { code: SourceErrorCode; at: number } | undefined;

  constructor(
    readonly source: string,
    definition: SourceDefinition,
    env: NodeJS.ProcessEnv = process.env,
  ) {
    const base = new URL(resolveEnv(definition.baseUrl, env));
    this.basePath = base.pathname.replace(/\/$/, '');
    this.timeoutMs = definition.limits.timeoutMs;
    this.secrets = secretNames(definition.auth);
    this.sourceDispatcher = createSourceDispatcher(source, definition, base.origin, env);
  }

  /**
   * GET a JSON document, or POST `postBody` as JSON for reads that take their keys in a body. `route`
   * is the path template, used in errors and telemetry instead of the URL.
   */
  async getJson(pathAndQuery: string, route: string, batchSize: number, observe?: CallObserver, postBody?: unknown): Promise<JsonResponse> {
    const startedAt = performance.now();
    const record = newCallRecord();
    let status: number | 'error' = 'error';
    let failure: SourceError | undefined;
    try {
      // The upstream request travels in the async context so that telemetry can template its span.
      const response: Dispatcher.ResponseData<CallRecord> = await withUpstreamRequest(
        { source: this.source, route, basePath: this.basePath, batchSize, attempt: 1 },
        () =>
          this.sourceDispatcher.dispatcher.request({
            path: this.basePath + pathAndQuery,
            opaque: record,
            // A POST read is not retried: the retry policy repeats GET and HEAD only.
            ...(postBody === undefined
              ? { method: 'GET', headers: { accept: 'application/json' } }
              : { method: 'POST', headers: { accept: 'application/json', 'content-type': 'application/json' }, body: JSON.stringify(postBody) }),
          }),
      );
      status = response.statusCode;
      const text = await response.body.text();
      if (status === 404) return { status, body: safeParse(text) };
      if (status >= 400) throw this.statusError(status, route, record);
      const body = safeParse(text);
      if (body === undefined) throw new SourceError('SOURCE_BAD_RESPONSE', this.source, route, `Source ${this.source} sent a body that is not JSON (${route})`, status);
      const maxAgeMs = maxAgeOf(response.headers['cache-control']);
      return maxAgeMs === undefined ? { status, body } : { status, body, maxAgeMs };
    } catch (error) {
      failure = this.classify(error, route, record);
      if (failure.status !== undefined) status = failure.status;
      throw failure;
    } finally {
      const at = Date.now();
      this.lastCall = { ok: failure === undefined, at };
      if (failure) this.lastError = { code: failure.code, at };
      observe?.({ source: this.source, route, batchSize, status, attempts: record.attempts, startedAt, durationMs: performance.now() - startedAt });
    }
  }

  /** `(GET /orders answered 503 after 3 attempts; ...)`: what happened, for the end of a message. */
  private what(route: string, record: CallRecord, outcome?: string): string {
    const attempts = record.attempts > 1 ? ` after ${record.attempts} attempts` : '';
    const stopped = record.retryStopped ? `; not retried: ${record.retryStopped}` : '';
    return `(${route}${outcome ? ` ${outcome}` : ''}${attempts}${stopped})`;
  }

  private statusError(status: number, route: string, record: CallRecord): SourceError {
    const what = this.what(route, record, `answered ${status}`);
    const fail = (code: SourceErrorCode, message: string) => new SourceError(code, this.source, route, message, status);
    if (status === 429) return fail('SOURCE_RATE_LIMITED', `Source ${this.source} is rate limiting the gateway ${what}; try again shortly`);
    if (status >= 500) return fail('SOURCE_UNAVAILABLE', `Source ${this.source} failed ${what}`);
    if ((status === 401 || status === 403) && this.secrets.length > 0) {
      return fail('SOURCE_REJECTED_REQUEST', `Source ${this.source} refused the gateway's credentials ${what}; check ${this.secrets.join(', ')}`);
    }
    return fail('SOURCE_REJECTED_REQUEST', `Source ${this.source} rejected the request ${what}; check the source definition`);
  }

  private classify(error: unknown, route: string, record: CallRecord): SourceError {
    if (error instanceof SourceError) return error;
    if (error instanceof undiciErrors.RequestRetryError) return this.statusError(error.statusCode, route, record);
    const fail = (code: SourceErrorCode, message: string, status?: number) => new SourceError(code, this.source, route, message, status);
    if (error instanceof BreakerOpenError) return fail('SOURCE_UNAVAILABLE', `Source ${this.source} is unavailable (${route}): ${error.message}`);
    if (error instanceof RateLimitWaitError) return fail('SOURCE_RATE_LIMITED', `Source ${this.source} is rate limited (${route}): ${error.message}`);
    if (error instanceof TokenRequestError) {
      const code = error.kind === 'refused' ? 'SOURCE_REJECTED_REQUEST' : error.kind === 'bad-response' ? 'SOURCE_BAD_RESPONSE' : 'SOURCE_UNAVAILABLE';
      return fail(code, `Source ${this.source} could not authenticate (${route}): ${error.message}`, error.status);
    }
    const interrupted = error instanceof InterruptedAnswerError;
    const cause = interrupted ? error.cause : error;
    const what = this.what(route, record);
    switch (failureKind(cause)) {
      case 'timeout':
        return fail('SOURCE_TIMEOUT', `Source ${this.source} did not ${interrupted ? 'finish its answer' : 'answer'} within ${this.timeoutMs} ms ${what}`);
      case 'connection':
        return fail('SOURCE_UNAVAILABLE', `Source ${this.source} ${interrupted ? 'broke off its answer' : 'is unreachable'} (${errorCode(cause)}) ${what}`);
      default:
        return fail('SOURCE_UNAVAILABLE', `Source ${this.source} failed (${errorCode(cause) ?? (cause instanceof Error ? cause.name : 'unknown error')}) ${what}`);
    }
  }

  /** The source's state for readiness reports. */
  health(): SourceHealth {
    const breaker = this.sourceDispatcher.breaker?.report();
    const last = this.lastCall;
    return {
      state: last === undefined ? 'unknown' : last.ok ? 'up' : 'failing',
      ...(breaker ? { breaker } : {}),
      ...(this.lastError ? { lastError: { code: this.lastError.code, at: new Date(this.lastError.at).toISOString() } } : {}),
      ...(last ? { lastCallAt: new Date(last.at).toISOString() } : {}),
    };
  }

  close(): Promise<void> {
    return this.sourceDispatcher.close();
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
