import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sandboxEnv, startSandboxes, type SandboxesOptions } from '../../sources/sandbox';
import baseConfig, { DEMO_KEY_ENV, DEMO_KEYS } from '../../virtualization.config';
import type { LimitsInput, RegistryDefinition, VirtualizationConfigInput } from '../../src/config/definition';
import { validateConfig } from '../../src/config/validate';
import type { LiveGateway } from '../../src/registry/live-gateway';
import type { Registry } from '../../src/registry/registry';
import { createRuntime, type Runtime, type RuntimeDeps } from '../../src/runtime/create-runtime';
import { createLogger, type LogDestination, type Logger } from '../../src/telemetry/logger';
import type { Clock } from '../../src/time/clock';

export const PROJECT_ROOT = join(__dirname, '../..');

/** The sandbox's demo keys (every scope; customers and orders only), which every test gateway accepts. */
export const DEMO_KEY = DEMO_KEYS.full.key;
export const DEMO_LIMITED_KEY = DEMO_KEYS.limited.key;
/** The headers a test client sends unless told otherwise: the demo key with every scope. */
export const DEMO_HEADERS: Readonly<Record<string, string>> = { 'x-api-key': DEMO_KEY };

/**
 * A test request's headers: the demo key, then the test's own. A header the test gives as `''`
 * is not sent at all (`{ 'x-api-key': '' }` sends no key; with `authorization` it sends only that).
 */
export function withDemoKey(headers: Readonly<Record<string, string>> = {}): Record<string, string> {
  const sendsOther = Object.keys(headers).some((name) => name.toLowerCase() === 'authorization' && headers[name] !== '');
  const merged: Record<string, string> = { ...(sendsOther ? {} : DEMO_HEADERS), ...headers };
  for (const [name, value] of Object.entries(merged)) if (value === '') delete merged[name];
  return merged;
}

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

export interface TestKeys {
  /** Each key's value, by name: what a test sends as `x-api-key`. */
  readonly keys: Readonly<Record<string, string>>;
  /** The variables that activate them, for the gateway's environment. */
  readonly env: NodeJS.ProcessEnv;
  /** Adds them to a configuration's `auth.apiKeys.static` (the keys it has stay). */
  configure(config: VirtualizationConfigInput): VirtualizationConfigInput;
  /** `{ 'x-api-key': <key> }` for one of them. */
  headers(name: string): Record<string, string>;
}

/**
 * Static API keys made for one test, by name with their scopes (every scope of the demo key when
 * none are given): random values, activated through variables of their own. Real keys the
 * gateway knows, so that separate clients are separate because their keys are.
 */
export function testKeys(scopesByName: Readonly<Record<string, readonly string[] | undefined>>): TestKeys {
  const keys: Record<string, string> = {};
  const env: NodeJS.ProcessEnv = {};
  const definitions: Record<string, { key: { env: string }; scopes: string[] }> = {};
  for (const [name, scopes] of Object.entries(scopesByName)) {
    const variable = `TEST_KEY_${name.toUpperCase()}`;
    keys[name] = `test_${name}_${randomUUID()}`;
    env[variable] = keys[name];
    definitions[name] = { key: { env: variable }, scopes: [...(scopes ?? DEMO_KEYS.full.scopes)] };
  }
  return {
    keys,
    env,
    configure: (config) => ({
      ...config,
      auth: { ...config.auth, apiKeys: { ...config.auth?.apiKeys, static: { ...config.auth?.apiKeys?.static, ...definitions } } },
    }),
    headers(name) {
      const key = keys[name];
      if (key === undefined) throw new Error(`no test key named ${name}`);
      return { 'x-api-key': key };
    },
  };
}

/**
 * A gateway started through the composition root, as `virtualize start` starts it, on a loopback
 * ephemeral port. Its registry is a file store in a temporary directory (removed on close) unless
 * `store` names another: never the store the built-in configuration picks from the environment.
 */
export async function startTestRuntime(
  input: VirtualizationConfigInput,
  deps: Omit<RuntimeDeps, 'baseDir'> & { baseDir?: string },
  store?: RegistryDefinition['store'],
): Promise<Runtime> {
  const tempDir = store ? undefined : mkdtempSync(join(tmpdir(), 'virtualize-registry-'));
  const registry = { ...input.registry, store: store ?? { kind: 'file' as const, dir: tempDir! } };
  try {
    const config = validateConfig({ ...input, server: { ...input.server, port: 0, host: '127.0.0.1' }, registry });
    // Sandbox mode unless the test says otherwise: these gateways call the sandboxes, with their
    // published secrets; the demo keys are set as sandbox mode sets them (a test's own env wins),
    // and GraphiQL opens with one. The test's env object itself is the gateway's (a test may set a
    // variable after the start, as an operator sets one before registering a definition).
    const env = deps.env;
    for (const [name, value] of Object.entries(DEMO_KEY_ENV)) env[name] ??= value;
    const runtime = await createRuntime(config, { baseDir: PROJECT_ROOT, port: 0, host: '127.0.0.1', sandbox: true, graphiqlHeaders: DEMO_HEADERS, ...deps, env });
    let closing: Promise<void> | undefined;
    return {
      ...runtime,
      close: () =>
        (closing ??= runtime.close().finally(() => {
          if (tempDir) rmSync(tempDir, { recursive: true, force: true });
        })),
    };
  } catch (error) {
    if (tempDir) rmSync(tempDir, { recursive: true, force: true });
    throw error;
  }
}

export interface Harness {
  sandboxes: Sandboxes;
  /** The generation serving now (the registry swaps it). */
  gateway: LiveGateway;
  registry: Registry;
  /** The running gateway: its address, its caches and webhooks, and how to stop it. */
  server: Runtime;
  url: string;
  /** Sends the demo key unless `headers` say otherwise (see `withDemoKey`). */
  query<T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>, headers?: Record<string, string>): Promise<GraphQLResponse<T>>;
  /** Upstream requests each sandbox received since the last reset, by route template. */
  upstream(): { crm: Record<string, number>; orders: Record<string, number>; support: Record<string, number>; total: number };
  resetUpstream(): void;
  /** The gateway's application and audit log lines, kept in memory instead of stdout and stderr. */
  logs: { app: MemoryLog; audit: MemoryLog };
  close(): Promise<void>;
}

/** The sandbox base URLs as the built-in config's environment references expect them. */
export { sandboxEnv };

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
 * Sandboxes and a gateway on ephemeral loopback ports, started as `npm start` starts them
 * (registry and schema generations included).
 * `configure` may extend the built-in config (another source, other limits).
 */
export async function startHarness(options: {
  latencyMs?: number;
  configure?: (config: VirtualizationConfigInput, sandboxes: Sandboxes) => VirtualizationConfigInput;
  env?: NodeJS.ProcessEnv;
  /** Told of every upstream call and every record left out; `sourceClock` drives the sources' policies. */
  gateway?: Pick<RuntimeDeps, 'observe' | 'onReject' | 'sourceClock' | 'sandbox'>;
  /**
   * Keep the cache tiers the config declares. Off by default: most tests count upstream calls
   * request by request, and a cache across requests would answer some of them.
   */
  cache?: boolean;
  /** Where the sandboxes' write endpoints send signed change notifications. */
  webhooks?: SandboxesOptions['webhooks'];
  /** The runtime's `clock` (cache tiers, webhook timestamps, server warnings): a `ManualClock` lets a test move time. */
  clock?: Clock;
  /** The registry store; default a file store in a temporary directory. */
  store?: RegistryDefinition['store'];
} = {}): Promise<Harness> {
  const sandboxes = await startSandboxes({ latencyMs: options.latencyMs ?? 0, ports: { crm: 0, orders: 0, support: 0 }, webhooks: options.webhooks });
  const configured = options.configure ? options.configure(structuredClone(baseConfig), sandboxes) : baseConfig;
  const input = options.cache ? configured : { ...configured, cache: { upstream: { enabled: false }, responses: { enabled: false } } };
  const logs = { app: new MemoryLog(), audit: new MemoryLog() };
  const server = await startTestRuntime(input, {
    env: { ...sandboxEnv(sandboxes), ...options.env },
    logs: { app: createLogger('app', logs.app.destination), audit: createLogger('audit', logs.audit.destination) },
    ...(options.clock ? { clock: options.clock } : {}),
    ...options.gateway,
  }, options.store).catch(async (error: unknown) => {
    await sandboxes.close();
    throw error;
  });
  const gateway = server.gateway;
  const url = `${server.url}/graphql`;
  return {
    sandboxes,
    gateway,
    registry: server.registry,
    server,
    url,
    logs,
    async query(query, variables, headers) {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', ...withDemoKey(headers) },
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
