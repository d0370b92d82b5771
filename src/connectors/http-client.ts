import type { Dispatcher } from 'undici';
import type { SourceDefinition } from '../config/definition';
import { resolveEnv } from '../config/env';
import { CODES } from '../errors';
import { systemClock, type TimerClock } from '../time/clock';
import { maxAgeOf } from './cache-control';
import type { EgressGuard } from './egress-guard';
import { SourceError } from './errors';
import { newCallRecord, type CallRecord } from './policies/attempt';
import { secretNames } from './policies/credentials';
import { createSourceDispatcher, type SourceDispatcher } from './source-dispatcher';
import { SourceHealthRecorder, type SourceHealth } from './source-health';
import { classifyFailure, statusError, type ClassifiedSource } from './status-classification';
import type { CallObserver } from './upstream-call';
import { withUpstreamRequest } from './upstream-request';

export interface JsonResponse {
  status: number;
  body: unknown;
  /** How long the source says the answer stays fresh (`Cache-Control`): 0 for no-store or no-cache; absent when it says nothing. */
  maxAgeMs?: number;
  /** The RFC 8288 `Link` header, for lists that page by it. */
  link?: string;
}

/**
 * The HTTP face of one source: GETs a JSON document through the source's dispatcher (its pool and
 * its policies, see source-dispatcher.ts); every way that can fail leaves as a `SourceError`
 * (status-classification.ts), and every call's outcome feeds the source's health.
 */
export class SourceHttpClient {
  private readonly sourceDispatcher: SourceDispatcher;
  /** The base URL's path (no trailing slash) and origin: every call's URL starts with them. */
  readonly basePath: string;
  readonly origin: string;
  private readonly classified: ClassifiedSource;
  private readonly healthRecorder = new SourceHealthRecorder();

  constructor(
    readonly source: string,
    definition: SourceDefinition,
    env: NodeJS.ProcessEnv = process.env,
    /** The clock of the source's policies and of the timings its calls report. */
    private readonly clock: TimerClock = systemClock,
    /** The egress policy every connection of a registered source passes; absent for the configuration's own sources. */
    egress?: EgressGuard,
  ) {
    const base = new URL(resolveEnv(definition.baseUrl, env));
    this.basePath = base.pathname.replace(/\/$/, '');
    this.origin = base.origin;
    const { timeoutMs, maxResponseBytes } = definition.limits;
    this.classified = { name: source, timeoutMs, maxResponseBytes, secrets: secretNames(definition.auth) };
    this.sourceDispatcher = createSourceDispatcher(source, definition, base.origin, env, clock, egress);
  }

  /**
   * GET a JSON document, or POST `postBody` as JSON for reads that take their keys in a body. `route`
   * is the path template, used in errors and telemetry instead of the URL. `headers` are the
   * caller's, for a source that forwards its caller (the source's own credentials are added by
   * its dispatcher).
   */
  async getJson(pathAndQuery: string, route: string, batchSize: number, observe?: CallObserver, postBody?: unknown, headers?: Readonly<Record<string, string>>, isNotFound?: (status: number, body: unknown) => boolean): Promise<JsonResponse> {
    const startedAt = this.clock.now();
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
              ? { method: 'GET', headers: { ...headers, accept: 'application/json' } }
              : { method: 'POST', headers: { ...headers, accept: 'application/json', 'content-type': 'application/json' }, body: JSON.stringify(postBody) }),
          }),
      );
      status = response.statusCode;
      const text = await response.body.text();
      if (status === 404) return { status, body: safeParse(text) };
      // A declared "no record" error answer (Stripe's 400 resource_missing) reads as a 404.
      if (status >= 400 && isNotFound?.(status, safeParse(text))) return { status: 404, body: safeParse(text) };
      if (status >= 400) throw statusError(this.classified, status, route, record);
      const body = safeParse(text);
      if (body === undefined) throw new SourceError(CODES.SOURCE_BAD_RESPONSE, this.source, route, `Source ${this.source} sent a body that is not JSON (${route})`, status);
      const maxAgeMs = maxAgeOf(response.headers['cache-control']);
      const link = response.headers.link;
      return { status, body, ...(maxAgeMs === undefined ? {} : { maxAgeMs }), ...(link === undefined ? {} : { link: Array.isArray(link) ? link.join(', ') : link }) };
    } catch (error) {
      failure = classifyFailure(this.classified, error, route, record);
      if (failure.status !== undefined) status = failure.status;
      throw failure;
    } finally {
      this.healthRecorder.record(failure?.code, this.clock.wallNow());
      observe?.({ source: this.source, route, batchSize, status, attempts: record.attempts, startedAt, durationMs: this.clock.now() - startedAt });
    }
  }

  /** The source's state for readiness reports. */
  health(): SourceHealth {
    return this.healthRecorder.report(this.sourceDispatcher.breaker?.report());
  }

  close(): Promise<void> {
    return this.sourceDispatcher.close();
  }
}

/** The body as JSON: null for an empty body, undefined for one that is not JSON. */
function safeParse(text: string): unknown {
  if (text === '') return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
