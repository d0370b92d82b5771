import { context, createContextKey } from '@opentelemetry/api';

/**
 * What an upstream HTTP request is for, readable while undici creates it: telemetry names and
 * templates the request's client span from it (its URL may carry ids and emails; the template
 * never does). It travels in the OpenTelemetry context, which `CallerContextPool` keeps right for
 * requests that wait for a connection; with tracing off there is no context to carry it, and it
 * costs nothing.
 */
export interface UpstreamRequest {
  source: string;
  /** Method and path template relative to the source's base path: `GET /orders/{value}`. */
  route: string;
  /** The source's base path (`/api`): with the route's path, the URL template of the request. */
  basePath: string;
  batchSize: number;
  /** 1 for the first try; a retry policy runs each attempt under its own number. */
  attempt: number;
}

const UPSTREAM_REQUEST = createContextKey('virtualize.upstream-request');

export function withUpstreamRequest<T>(request: UpstreamRequest, send: () => T): T {
  return context.with(context.active().setValue(UPSTREAM_REQUEST, request), send);
}

/**
 * Runs `send` as a request of its own (an OAuth token fetch made on behalf of a call): its span
 * must not be named and templated as the call that happened to need it.
 */
export function withoutUpstreamRequest<T>(send: () => T): T {
  return context.with(context.active().deleteValue(UPSTREAM_REQUEST), send);
}

/** The upstream request being sent from the current context, if any. */
export function currentUpstreamRequest(): UpstreamRequest | undefined {
  return context.active().getValue(UPSTREAM_REQUEST) as UpstreamRequest | undefined;
}
