import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * What an upstream HTTP request is for, readable while undici creates it: telemetry names and
 * templates the request's client span from it (its URL may carry ids and emails; the template
 * never does). `CallerContextPool` keeps it right for requests that wait for a connection.
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

const storage = new AsyncLocalStorage<UpstreamRequest>();
let read = false;

/**
 * Says that something reads the upstream request while undici creates it. Until then requests are
 * sent without it: an AsyncLocalStorage in use costs every promise of the process a little.
 */
export function readUpstreamRequests(): void {
  read = true;
}

export function withUpstreamRequest<T>(request: UpstreamRequest, send: () => T): T {
  return read ? storage.run(request, send) : send();
}

/** The upstream request being sent from the current async context, if any. */
export function currentUpstreamRequest(): UpstreamRequest | undefined {
  return storage.getStore();
}
