import type { IncomingMessage, Server, ServerOptions, ServerResponse } from 'node:http';
import type { ServerDefinition } from '../config/definition';
import { CODES, VirtualizeError } from '../errors';

/** The bounds of `server` in the configuration that the HTTP server applies. */
export type HttpBounds = Pick<ServerDefinition, 'headersTimeoutMs' | 'requestTimeoutMs' | 'keepAliveTimeoutMs' | 'maxConnections' | 'maxRequestsInFlight' | 'retryAfterSeconds'>;

/** What the server counts of what its bounds refused, for `/metrics`. */
export interface HttpBoundsObserver {
  refused(reason: 'connections' | 'in_flight'): void;
}

/**
 * Node's own timeouts, which it checks for every connection on an interval (30 s by default,
 * far longer than the timeouts here): checked often enough that each fires within a quarter of
 * itself, and at least once a second.
 */
export function serverOptions(bounds: HttpBounds): ServerOptions {
  const shortest = Math.min(bounds.headersTimeoutMs, bounds.requestTimeoutMs);
  return {
    headersTimeout: bounds.headersTimeoutMs,
    requestTimeout: bounds.requestTimeoutMs,
    keepAliveTimeout: bounds.keepAliveTimeoutMs,
    connectionsCheckingInterval: Math.max(5, Math.min(1_000, Math.floor(shortest / 4))),
  };
}

/** Caps the open connections: Node closes one beyond them as it is accepted, and says so ('drop'). */
export function capConnections(server: Server, bounds: HttpBounds, observer: HttpBoundsObserver): void {
  server.maxConnections = bounds.maxConnections;
  server.on('drop', () => observer.refused('connections'));
}

/**
 * Load shedding: GraphQL requests served at once, at most `maxRequestsInFlight`. A request beyond
 * them is answered at once, 503 `OVERLOADED` with `Retry-After`, before its body is read (so the
 * connection closes), and costs nothing more: no parse, no price, no source call. A request
 * leaves the count when its answer is handed over or its connection closes, whichever comes first.
 */
export class InFlightRequests {
  private count = 0;

  constructor(
    private readonly bounds: HttpBounds,
    private readonly observer: HttpBoundsObserver,
  ) {}

  get inFlight(): number {
    return this.count;
  }

  /** Counts the request in, or returns the refusal to answer it with. */
  admit(_request: IncomingMessage, response: ServerResponse): VirtualizeError | undefined {
    if (this.count >= this.bounds.maxRequestsInFlight) {
      this.observer.refused('in_flight');
      const seconds = this.bounds.retryAfterSeconds;
      return new VirtualizeError(
        CODES.OVERLOADED,
        `The gateway is serving ${this.bounds.maxRequestsInFlight} requests already (server.maxRequestsInFlight); this one was not read. Retry in ${seconds} s.`,
        { retryAfterSeconds: seconds },
        { headers: { 'retry-after': String(seconds) } },
      );
    }
    this.count += 1;
    let counted = true;
    const leave = () => {
      if (!counted) return;
      counted = false;
      this.count -= 1;
    };
    response.once('finish', leave);
    response.once('close', leave);
    return undefined;
  }
}
