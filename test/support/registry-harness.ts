import { startSandboxes } from '../../sources/sandbox';
import { startBilling, type BillingSandboxHandle } from '../../sources/billing/server';
import baseConfig from '../../virtualization.config';
import type { RegistryDefinition, VirtualizationConfigInput } from '../../src/config/definition';
import type { HostResolver } from '../../src/registry/egress-policy';
import type { Registry } from '../../src/registry/registry';
import type { Runtime } from '../../src/runtime/create-runtime';
import type { Clock } from '../../src/time/clock';
import type { TimerClock } from '../../src/time/clock';
import { billingEnv } from './billing';
import { memoryLoggers, sandboxEnv, startTestRuntime, withDemoKey, type GraphQLResponse, type Sandboxes } from './harness';

export const ADMIN_TOKEN = 'admin-token-for-tests';
export const VIEWER_TOKEN = 'viewer-token-for-tests';
export const BILLING_KEY = 'billing-test-key';

type StoreDefinition = RegistryDefinition['store'];

export interface RegistryHarness {
  sandboxes: Sandboxes;
  billing: BillingSandboxHandle;
  registry: Registry;
  server: Runtime;
  /** The gateway's origin. */
  origin: string;
  env: NodeJS.ProcessEnv;
  /** Every event the registry logged (swaps, reload failures, imports). */
  logs: Array<Record<string, unknown>>;
  /** The gateway's application and audit log lines. */
  lines: ReturnType<typeof memoryLoggers>['lines'];
  /** Resolves with the first event, logged already or later, for which `match` holds. */
  logged(match: (event: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
  /** Sends the demo key unless `headers` say otherwise (see `withDemoKey`). */
  graphql<T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>, headers?: Record<string, string>): Promise<GraphQLResponse<T>>;
  admin<T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>, token?: string | null): Promise<GraphQLResponse<T>>;
  /** Uploads a crosswalk; the NDJSON answer's lines (or the error body) come back parsed. */
  upload(mapping: string, body: string, options?: { contentType?: string; query?: string; token?: string }): Promise<{ status: number; lines: Array<Record<string, unknown>> }>;
  close(): Promise<void>;
}

/**
 * The sandboxes (billing included, undeclared), and a gateway with its registry and admin API on
 * ephemeral loopback ports, started as `virtualize start --sandbox` starts them. The file store lives in a
 * temporary directory unless a store is given (and is removed on close).
 */
export async function startRegistryHarness(
  options: {
    store?: StoreDefinition;
    latencyMs?: number;
    env?: NodeJS.ProcessEnv;
    sandboxes?: Sandboxes;
    billing?: BillingSandboxHandle;
    allowPrivate?: string[];
    /** DNS for the egress checks, at registration and at connect time; default the system's. */
    resolveHost?: HostResolver;
    /** Variables registered definitions may name besides BILLING_* (registry.env.allowed). */
    allowEnv?: string[];
    /** More of the registry section (imports, dryRun). */
    registry?: Pick<NonNullable<VirtualizationConfigInput['registry']>, 'imports' | 'dryRun'>;
    /** The clock of the sources' policies and of dry-run deadlines. */
    sourceClock?: TimerClock;
    /** The cache section; by default both tiers are off. */
    cache?: VirtualizationConfigInput['cache'];
    /** The runtime's clock (managed keys' expiry and cache among others). */
    clock?: Clock;
  } = {},
): Promise<RegistryHarness> {
  const sandboxes = options.sandboxes ?? (await startSandboxes({ latencyMs: options.latencyMs ?? 0, ports: { crm: 0, orders: 0, support: 0 } }));
  const billing = options.billing ?? (await startBilling({ apiKey: BILLING_KEY }));
  const env: NodeJS.ProcessEnv = { ...sandboxEnv(sandboxes), ...billingEnv(billing, BILLING_KEY), TEST_ADMIN_TOKEN: ADMIN_TOKEN, TEST_VIEWER_TOKEN: VIEWER_TOKEN, ...options.env };
  const input: VirtualizationConfigInput = {
    ...baseConfig,
    // As in the main harness: these tests watch calls reach the sources, request by request.
    cache: options.cache ?? { upstream: { enabled: false }, responses: { enabled: false } },
    registry: {
      credentials: {
        admin: { token: { env: 'TEST_ADMIN_TOKEN' }, scopes: ['registry:read', 'registry:write'] },
        viewer: { token: { env: 'TEST_VIEWER_TOKEN' }, scopes: ['registry:read'] },
      },
      egress: { allowedHosts: ['*'], allowPrivate: [`127.0.0.1:${billing.port}`, ...(options.allowPrivate ?? [])] },
      env: { allowed: ['BILLING_*', ...(options.allowEnv ?? [])] },
      ...(options.registry ?? {}),
    },
  };
  const logs: Array<Record<string, unknown>> = [];
  const waiting = new Set<(event: Record<string, unknown>) => void>();
  const log = (event: Record<string, unknown>) => {
    logs.push(event);
    for (const wake of [...waiting]) wake(event);
  };
  const logged = (match: (event: Record<string, unknown>) => boolean) =>
    new Promise<Record<string, unknown>>((resolve) => {
      const seen = logs.find(match);
      if (seen) return resolve(seen);
      const wake = (event: Record<string, unknown>) => {
        if (!match(event)) return;
        waiting.delete(wake);
        resolve(event);
      };
      waiting.add(wake);
    });
  const loggers = memoryLoggers();
  const server = await startTestRuntime(
    input,
    {
      env,
      registryLog: log,
      onReject: () => undefined,
      shutdownGraceMs: 2_000,
      logs: loggers,
      ...(options.resolveHost ? { resolveHost: options.resolveHost } : {}),
      ...(options.sourceClock ? { sourceClock: options.sourceClock } : {}),
      ...(options.clock ? { clock: options.clock } : {}),
    },
    options.store,
  );
  const registry = server.registry;
  const origin = server.url;

  const post = async (path: string, body: unknown, headers: Record<string, string> = {}) => {
    const response = await fetch(`${origin}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json', ...headers }, body: JSON.stringify(body) });
    return { status: response.status, ...((await response.json()) as Omit<GraphQLResponse, 'status'>) } as GraphQLResponse<never>;
  };
  return {
    sandboxes,
    billing,
    registry,
    server,
    origin,
    env,
    logs,
    lines: loggers.lines,
    logged,
    graphql: (query, variables, headers) => post('/graphql', { query, variables }, withDemoKey(headers)),
    admin: (query, variables, token = ADMIN_TOKEN) => post('/admin/graphql', { query, variables }, token === null ? {} : { authorization: `Bearer ${token}` }),
    async upload(mapping, body, uploadOptions = {}) {
      const response = await fetch(`${origin}/admin/crosswalks/${mapping}${uploadOptions.query ?? ''}`, {
        method: 'POST',
        headers: { 'content-type': uploadOptions.contentType ?? 'text/csv', authorization: `Bearer ${uploadOptions.token ?? ADMIN_TOKEN}` },
        body,
      });
      const text = await response.text();
      return { status: response.status, lines: text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>) };
    },
    async close() {
      await server.close();
      if (!options.sandboxes) await sandboxes.close();
      if (!options.billing) await billing.close();
    },
  };
}

/** The fields of a ChangeResult that tests read. */
export const CHANGE = `ok schemaVersion report { ok problems { path message expected found stage } warnings { path message stage } samples { source entity endpoint ok records rejected note } fieldsAdded fieldsRemoved } audit { revision actor action summary diff { op path before after } }`;
