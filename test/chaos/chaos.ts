/**
 * What the chaos tests share: policies with short timings, the customer 360 they ask for, and the
 * checks made after the storm (no unhandled rejection, no socket left open, nothing leaked in an
 * answer). A test that needs time to pass for the policies (a breaker's open period, a
 * Retry-After) gives the sources a `ManualClock` and moves it; nothing waits for the real clock.
 */
import type { LimitsInput } from '../../src/config/definition';
import { SANDBOX_CREDENTIALS } from '../../sources/sandbox';
import type { ReadinessReport } from '../../src/server/health';
import { startHarness, withLimits, type GraphQLResponse, type Harness } from '../support/harness';
import { openSockets, socketsSettle, watchUnhandledRejections } from '../support/hygiene';
import type { GatewayOptions } from '../../src/federation/gateway';

export const FAST = {
  // Generous for a loaded test machine; the slow-source test sets its own, shorter one.
  timeoutMs: 1_000,
  connectTimeoutMs: 200,
  // No backoff: a retry goes at once, and with a manual clock it never waits for the test to move it.
  retry: { maxAttempts: 3, baseDelayMs: 0, maxDelayMs: 0, maxRetryAfterMs: 1_500, budget: { ratio: 1, minPerSecond: 100, windowMs: 10_000 } },
  breaker: { windowMs: 10_000, minimumAttempts: 5, failureRatio: 0.5, openMs: 1_500 },
} satisfies LimitsInput;

export const CUSTOMER_360 = `{ customers(first: 3) { nodes { id name orders { number } orderSummary { count } tickets { subject } openTicketCount } } }`;

export interface Customer360 {
  customers: {
    nodes: Array<{ id: string; name: string; orders: unknown[] | null; orderSummary: { count: number } | null; tickets: unknown[] | null; openTicketCount: number | null }>;
  };
}

export type Response360 = GraphQLResponse<Customer360>;

export interface Chaos {
  h: Harness;
  readiness(): Promise<ReadinessReport>;
  /** Closes everything, then reports what was left behind. */
  finish(): Promise<{ unhandledRejections: unknown[]; socketsOpen: number; socketsBefore: number }>;
}

/** A harness whose three sources all have the short-timed policies (plus `limits`), watched for leaks. */
export async function startChaos(options: { limits?: Record<string, LimitsInput>; gateway?: Pick<GatewayOptions, 'observe' | 'onReject' | 'sourceClock'> } = {}): Promise<Chaos> {
  const socketsBefore = openSockets();
  const watch = watchUnhandledRejections();
  const limits = { crm: FAST, orders: FAST, support: FAST, ...options.limits };
  const h = await startHarness({ configure: withLimits(limits), gateway: options.gateway });
  return {
    h,
    readiness: async () => (await (await fetch(`${h.server.url}/readyz`)).json()) as ReadinessReport,
    finish: async () => {
      await h.close();
      watch.stop();
      return { unhandledRejections: watch.rejections, socketsOpen: await socketsSettle(socketsBefore), socketsBefore };
    },
  };
}

/** Paths of the errors, as strings, sorted: `customers.nodes.0.tickets`. */
export function errorPaths(response: GraphQLResponse<unknown>): string[] {
  return (response.errors ?? []).map((error) => (error.path ?? []).join('.')).sort();
}

/** Nothing in an answer or a report that a client should not see: no stack, no URL, no credential. */
export function expectNothingLeaked(value: unknown): void {
  const text = JSON.stringify(value);
  expect(text).not.toMatch(/127\.0\.0\.1|localhost|https?:\/\//);
  expect(text).not.toMatch(/"stack"|\bat .+\.(js|ts):\d+/);
  for (const secret of [SANDBOX_CREDENTIALS.crm.apiKey, SANDBOX_CREDENTIALS.support.clientSecret, 'Bearer ']) expect(text).not.toContain(secret);
}
