/** The HTTP server's section: where it listens, and the bounds that keep one client from holding it. */
import { z } from 'zod';

/** A duration in milliseconds, between a floor that still lets a request through and a ceiling that still bounds it. */
const duration = (max: number) => z.number().int().min(10).max(max);

export const serverDefinition = z
  .strictObject({
    port: z.number().int().min(0).max(65_535).default(4000),
    /** Loopback unless told otherwise: a gateway in front of customer data listens on every interface only when asked (HOST=0.0.0.0). */
    host: z.string().default('127.0.0.1'),
    /** From a connection's first byte to the end of a request's headers; an idle new connection is closed when it passes. */
    headersTimeoutMs: duration(120_000).default(10_000),
    /** From a connection's first byte to the end of a request's body (408 and the connection closed): a slow body cannot hold a socket longer. */
    requestTimeoutMs: duration(600_000).default(30_000),
    /** How long a kept-alive connection may stay idle between requests. */
    keepAliveTimeoutMs: duration(600_000).default(5_000),
    /** Open connections at once; a connection beyond them is closed as it is accepted. */
    maxConnections: z.number().int().min(1).max(1_000_000).default(1_024),
    /**
     * GraphQL requests served at once (a subscription holds its place while it streams); one
     * beyond them is answered 503 `OVERLOADED` with `Retry-After`, its body unread. Health,
     * readiness and metrics are never refused.
     */
    maxRequestsInFlight: z.number().int().min(1).max(100_000).default(256),
    /** The `Retry-After` of that 503, in seconds. */
    retryAfterSeconds: z.number().int().min(1).max(3_600).default(1),
  })
  .refine((server) => server.headersTimeoutMs <= server.requestTimeoutMs, {
    message: 'headersTimeoutMs must not exceed requestTimeoutMs: the headers are part of the request',
    path: ['headersTimeoutMs'],
  });
export type ServerDefinition = z.infer<typeof serverDefinition>;
