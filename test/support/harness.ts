import { join } from 'node:path';
import { startSandboxes, type SandboxesOptions } from '../../sources/sandbox';
import baseConfig from '../../virtualization.config';
import type { LimitsInput, VirtualizationConfigInput } from '../../src/config/definition';
import { validateConfig } from '../../src/config/validate';
import { createGateway, type Gateway, type GatewayOptions } from '../../src/federation/gateway';
import { startGatewayServer, type GatewayServer } from '../../src/server/gateway-server';
import { createLogger, type LogDestination, type Logger } from '../../src/telemetry/logger';
import { CacheCounters } from '../../src/telemetry/metrics';
import type { Clock } from '../../src/time/clock';

export const PROJECT_ROOT = join(__dirname, '../..');

export type Sandboxes = Awaited<ReturnType<typeof startSandboxes>>;

export interface GraphQLResponse<T = Record<string, unknown>> {
  status: number;
  data?: T | null;
  errors?: Array<{ message: string; path?: Array<string | number>; extensions?: Record<string, unknown> }>;
  extensions?: Record<string, unknown>;
}

/** Log lines kept in memory, parsed. */
export class MemoryLog {
  private readonly lines: string[] = [];
  private waiting: Array<{ until: (entries: Array<Record<string, unknown>>) => boolean; resolve: () => void }> = [];
  readonly destination: LogDestination = {
    write: (line: string) => {
      this.lines.push(line);
      if (this.waiting.length > 0) this.wake();
    },
  };

  entries(): Array<Record<string, unknown>> {
    return this.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  }

  /** Resolves once `until` holds for the lines written so far: checked now, then after each new line. */
  when(until: (entries: Array<Record<string, unknown>>) => boolean): Promise<void> {
    if (until(this.entries())) return Promise.resolve();
    return new Promise((resolve) => this.waiting.push({ until, resolve }));
  }

  private wake(): void {
    const entries = this.entries();
    this.waiting = this.waiting.filter((waiter) => {
      if (!waiter.until(entries)) return true;
      waiter.resolve();
      return false;
    });
  }
}

/** Loggers that write to memory: what a test keeps off stdout (and may read back). */
export function memoryLoggers(): { app: Logger; audit: Logger; lines: { app: MemoryLog; audit: MemoryLog } } {
  const lines = { app: new MemoryLog(), audit: new MemoryLog() };
  return { app: createLogger('app', lines.app.destination), audit: createLogger('audit', lines.audit.destination), lines };
}

export interface Harness {
  sandboxes: Sandboxes;
  gateway: Gateway;
  server: GatewayServer;
  url: string;
  query<T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>, headers?: Record<string, string>): Promise<GraphQLResponse<T>>;
  /** Upstream requests each sandbox received since the last reset, by route template. */
  upstream(): { crm: Record<string, number>; orders: Record<string, number>; support: Record<string, number>; total: number };
  resetUpstream(): void;
  /** The gateway's application and audit log lines, kept in memory instead of stdout and stderr. */
  logs: { app: MemoryLog; audit: MemoryLog };
  close(): Promise<void>;
}

/** The sandbox base URLs as the built-in config's environment references expect them. */
export function sandboxEnv(sandboxes: Sandboxes): NodeJS.ProcessEnv {
  return {
    CRM_URL: `${sandboxes.crm.url}/services/data/v58.0`,
    ORDERS_URL: `${sandboxes.orders.url}/api`,
    SUPPORT_URL: `${sandboxes.support.url}/api/v2`,
  };
}

/** A `configure` that overrides the limits of some sources (the rest of each source's limits stay). */
export function withLimits(limits: Record<string, LimitsInput>): (config: VirtualizationConfigInput) => VirtualizationConfigInput {
  return (config) => {
    for (const [name, override] of Object.entries(limits)) {
      const source = config.sources[name];
      if (!source) throw new Error(`no source ${name} in the config`);
      source.limits = { ...source.limits, ...override };
    }
    return config;
  };
}

/**
 * Sandboxes and a gateway on ephemeral loopback ports, wired as `npm start` wires them.
 * `configure` may extend the built-in config (another source, other limits).
 */
export async function startHarness(options: {
  latencyMs?: number;
  configure?: (config: VirtualizationConfigInput, sandboxes: Sandboxes) => VirtualizationConfigInput;
  env?: NodeJS.ProcessEnv;
  /** Told of every upstream call and every record left out, as `createGateway` is. */
  gateway?: Pick<GatewayOptions, 'observe' | 'onReject' | 'sourceClock'>;
  /**
   * Keep the cache tiers the config declares. Off by default: most tests count upstream calls
   * request by request, and a cache across requests would answer some of them.
   */
  cache?: boolean;
  /** Where the sandboxes' write endpoints send signed change notifications. */
  webhooks?: SandboxesOptions['webhooks'];
  /** The clock of the cache tiers (freshness, ages, admission): a `ManualClock` lets a test move time. */
  clock?: Clock;
} = {}): Promise<Harness> {
  const sandboxes = await startSandboxes({ latencyMs: options.latencyMs ?? 0, ports: { crm: 0, orders: 0, support: 0 }, webhooks: options.webhooks });
  const configured = options.configure ? options.configure(structuredClone(baseConfig), sandboxes) : baseConfig;
  const input = options.cache ? configured : { ...configured, cache: { upstream: { enabled: false }, responses: { enabled: false } } };
  const config = validateConfig({ ...input, server: { port: 0, host: '127.0.0.1' } });
  const logs = { app: new MemoryLog(), audit: new MemoryLog() };
  const appLogger = createLogger('app', logs.app.destination);
  const cacheMetrics = new CacheCounters();
  const clock = options.clock ? { clock: options.clock } : {};
  const gateway = await createGateway(config, {
    baseDir: PROJECT_ROOT,
    env: { ...sandboxEnv(sandboxes), ...options.env },
    logger: appLogger,
    cacheDeps: { metrics: cacheMetrics, ...clock },
    ...options.gateway,
  });
  const server = await startGatewayServer(gateway, {
    port: 0,
    host: '127.0.0.1',
    logs: { app: appLogger, audit: createLogger('audit', logs.audit.destination) },
    cacheMetrics,
    ...clock,
  });
  const url = `${server.url}/graphql`;
  return {
    sandboxes,
    gateway,
    server,
    url,
    logs,
    async query(query, variables, headers) {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await response.json()) as Omit<GraphQLResponse, 'status'>;
      return { status: response.status, ...body } as GraphQLResponse<never>;
    },
    upstream() {
      const crm = sandboxes.crm.stats().byRoute;
      const orders = sandboxes.orders.stats().byRoute;
      const support = sandboxes.support.stats().byRoute;
      const sum = (routes: Record<string, number>) => Object.values(routes).reduce((a, b) => a + b, 0);
      return { crm, orders, support, total: sum(crm) + sum(orders) + sum(support) };
    },
    resetUpstream() {
      sandboxes.crm.resetStats();
      sandboxes.orders.resetStats();
      sandboxes.support.resetStats();
    },
    async close() {
      await server.close();
      await sandboxes.close();
    },
  };
}
