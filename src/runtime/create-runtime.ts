import type { YogaServerInstance } from 'graphql-yoga';
import { CachedOperationStore } from '../auth/cached-operation-store';
import { Authenticator } from '../auth/authenticator';
import { createJwtVerifier } from '../auth/jwt-verifier';
import { ManagedKeys } from '../auth/managed-keys';
import { requireClientAuthentication } from '../auth/start-check';
import { ResponseStore } from '../cache/response-cache';
import { UpstreamCache } from '../cache/upstream-cache';
import type { VirtualizationConfig } from '../config/definition';
import { EgressGuard } from '../connectors/egress-guard';
import type { CallObserver } from '../connectors/upstream-call';
import type { RejectionListener } from '../connectors/source-connector';
import type { FederationContext } from '../federation/request-context';
import { openBudgetStore } from '../guard/open-budget-store';
import type { HostResolver } from '../registry/egress-policy';
import type { LiveGateway } from '../registry/live-gateway';
import { openRegistryStore } from '../registry/open-registry-store';
import { Registry } from '../registry/registry';
import { registryLogTo, type RegistryLog } from '../registry/registry-log';
import { createAdminApi } from '../server/admin-api';
import { startGatewayServer, type GatewayServerContext } from '../server/gateway-server';
import { requireWebhookSecrets, WebhookReceiver } from '../server/webhooks';
import { defaultAuditLogger, defaultLogger, type Logger } from '../telemetry/logger';
import { CacheCounters, GatewayMetrics } from '../telemetry/metrics';
import { systemClock, type Clock, type TimerClock } from '../time/clock';
import { generationBuilder, loadCanonical } from './generations';
import { openMappingStores } from './mapping-stores';
import { Teardown } from './teardown';

/** What a gateway process is given from outside its configuration. */
export interface RuntimeDeps {
  /** Directory that relative paths of the configuration (schema, crosswalk files, the file registry) resolve against. */
  baseDir: string;
  /** Where secrets and URLs are resolved from. */
  env: NodeJS.ProcessEnv;
  /** Where to listen; default `server.port` and `server.host` of the configuration. 0 takes a free port. */
  port?: number;
  host?: string;
  /** How long `close()` waits for requests in flight before it closes their sockets; default 10 s. */
  shutdownGraceMs?: number;
  /** The application and audit logs; default the process's own (stdout, and `VIRTUALIZE_AUDIT_LOG`). */
  logs?: { app?: Logger; audit?: Logger };
  /** The registry's events (swaps, reload failures, imports); default lines of the application log. */
  registryLog?: RegistryLog;
  /** DNS for the egress checks of registered sources, at registration and at connect time (tests replace it). */
  resolveHost?: HostResolver;
  /** Told of every record a mapping leaves out; default a warning in the application log. */
  onReject?: RejectionListener;
  /** Told of every upstream call. */
  observe?: CallObserver;
  /**
   * The clock of the cache tiers (freshness, ages, admission), of the webhooks' timestamp tolerance
   * and of the server's warning intervals; default the process's clocks.
   */
  clock?: Clock;
  /** The clock of the sources' policies (backoff, breaker, rate limit, token lifetime); default the process's. */
  sourceClock?: TimerClock;
  /**
   * Sandbox mode (`start --sandbox`, and the tests and benchmarks that run the sandboxes): the
   * sandbox's published development secrets and demo keys may be in use. Outside it, a webhook
   * whose secret is unset or that published default refuses to start, and so does a gateway that
   * no client could authenticate to (with no `auth.anonymous`).
   */
  sandbox?: boolean;
  /** Headers GraphiQL opens with (sandbox mode: the demo key, so that its queries run as written). */
  graphiqlHeaders?: Readonly<Record<string, string>>;
}

/** A running gateway process: its address, the parts tests and operators reach, and how to stop it. */
export interface Runtime {
  readonly url: string;
  readonly port: number;
  /** The generation serving now (swapped by the registry). */
  readonly gateway: LiveGateway;
  readonly registry: Registry;
  /** The hot-response tier (`cache.responses`). */
  readonly responseCache: ResponseStore;
  /** The upstream-call cache every generation shares (`cache.upstream`, `cache.shared`). */
  readonly upstreamCache: UpstreamCache;
  readonly webhooks: WebhookReceiver;
  readonly metrics: GatewayMetrics;
  readonly yoga: YogaServerInstance<GatewayServerContext, FederationContext>;
  /** Stops accepting requests, lets those in flight finish (up to the grace period), then closes every part. */
  close(): Promise<void>;
}

/**
 * The composition root: everything a gateway process runs, built in one order, each part given
 * what it depends on when it is built. `virtualize start`, the test harnesses and the benchmarks
 * all start gateways here. If a part fails to open, the parts opened before it are closed.
 */
export async function createRuntime(config: VirtualizationConfig, deps: RuntimeDeps): Promise<Runtime> {
  const { baseDir, env } = deps;
  // Before anything opens: a webhook anyone could sign does not start by accident.
  if (!deps.sandbox) requireWebhookSecrets(config.cache.webhooks, env);
  // Before anything opens: a gateway that anyone could call does not start by accident.
  if (!deps.sandbox) requireClientAuthentication(config, env);
  const teardown = new Teardown();
  try {
    // Telemetry first, so that every part below reports from its first moment: the logs, and the
    // cache tiers' counters (served at /metrics with the gateway's own, built once the registry is).
    const logs = { app: deps.logs?.app ?? defaultLogger(), audit: deps.logs?.audit ?? defaultAuditLogger() };
    const registryLog = deps.registryLog ?? registryLogTo(logs.app);
    const cacheMetrics = new CacheCounters();
    const clock = deps.clock ? { clock: deps.clock } : {};

    // Caches: one upstream-call cache for every generation (what a swap keeps), and the hot-response tier.
    const upstreamCache = await UpstreamCache.open(config.cache, { env, metrics: cacheMetrics, logger: logs.app, ...clock });
    teardown.add(() => upstreamCache.close());
    const responseCache = new ResponseStore(config.cache.responses, { metrics: cacheMetrics, ...clock });
    teardown.add(() => responseCache.clear());

    // Mappings: the registry's store holds imported pairs; the configuration's crosswalk files are loaded once.
    const store = await openRegistryStore(config, baseDir, env, registryLog);
    teardown.add(() => store.close());
    const tables = await openMappingStores(config, baseDir, store.mappings);
    // The trusted-documents manifest, read by requests and written by pushes through one cache.
    const operations = new CachedOperationStore(store.operations, { ...clock });

    // The registry and its schema generations: the configuration's own first (version 0), then the registered revision.
    const canonical = loadCanonical(config, baseDir);
    const build = generationBuilder({
      canonical,
      env,
      tables,
      upstreamCache,
      logger: logs.app,
      ...(deps.onReject ? { onReject: deps.onReject } : {}),
      ...(deps.observe ? { observe: deps.observe } : {}),
      ...(deps.sourceClock ? { sourceClock: deps.sourceClock } : {}),
      // Registered sources connect through the egress policy, checked on the addresses connected to.
      egress: { guard: new EgressGuard(config.registry.egress, deps.resolveHost), configured: new Set(Object.keys(config.sources)) },
    });
    const snapshot = await store.load();
    // The registry owns the generations from here: closing it closes every one.
    const initial = await build(config);
    const registry = new Registry({
      base: config,
      canonical,
      tables,
      store,
      snapshot,
      initial,
      build,
      env,
      log: registryLog,
      operations,
      ...(deps.resolveHost ? { resolveHost: deps.resolveHost } : {}),
      ...(deps.sourceClock ? { clock: deps.sourceClock } : {}),
    });
    teardown.add(() => registry.close());
    await registry.start();
    const live = registry.gateway;
    // The breaker gauge reads the generation serving at each scrape.
    const metrics = new GatewayMetrics(() => [...live.connectors].map(([name, connector]) => [name, connector.http.health().breaker?.state ?? 'closed'] as const), cacheMetrics);

    // The guard's per-client budgets.
    const budget = await openBudgetStore(config.guard.budget, env);
    teardown.add(() => budget.close());

    // Webhooks: an invalidation applied here goes to the shared tier, which tells every replica;
    // one applied on any replica reaches this one's local memory through it.
    const shared = upstreamCache.shared;
    const webhooks = new WebhookReceiver({ gateway: live, responses: responseCache, logger: logs.app, env, onResolution: metrics.recordWebhookResolution, ...clock, ...(shared ? { onInvalidate: (refs) => shared.invalidate(refs) } : {}) });
    shared?.onInvalidate((refs) => webhooks.applyShared(refs));

    // Who calls /graphql: the static keys read from the environment now; managed keys from the
    // registry store (created through the admin API), looked up behind a short cache; bearer
    // tokens checked against the configured issuers (their keys read now, JWKS fetched on first use).
    const onTouchError = (error: unknown) => logs.app.warn({ reason: error instanceof Error ? error.message : String(error) }, "an API key's last use could not be recorded");
    const managedKeys = config.auth.apiKeys.managed ? new ManagedKeys(store.apiKeys, { ...clock, onTouchError }) : undefined;
    const issuers = config.auth.jwt.issuers;
    const bearer = issuers.length > 0 ? createJwtVerifier(issuers, { env, clock: deps.clock ?? systemClock, logger: logs.app }) : undefined;
    const authenticator = new Authenticator({ config: config.auth, env, ...(managedKeys ? { managedKeys } : {}), ...(bearer ? { bearer } : {}) });
    teardown.add(() => authenticator.close());

    // The HTTP server last: nothing answers before every part it calls exists.
    const admin = createAdminApi(registry, config.registry.credentials, env, managedKeys);
    const server = await startGatewayServer(live, {
      port: deps.port ?? config.server.port,
      host: deps.host ?? config.server.host,
      bounds: config.server,
      ...(deps.shutdownGraceMs !== undefined ? { shutdownGraceMs: deps.shutdownGraceMs } : {}),
      budget,
      metrics,
      responseCache,
      webhooks,
      logs,
      admin,
      env,
      sandbox: deps.sandbox === true,
      trustedDocuments: { config: config.auth.trustedDocuments, operations },
      authenticator,
      ...(deps.graphiqlHeaders ? { graphiqlHeaders: deps.graphiqlHeaders } : {}),
      ...clock,
    });
    teardown.add(() => server.close());

    let closing: Promise<void> | undefined;
    return {
      url: server.url,
      port: server.port,
      gateway: live,
      registry,
      responseCache,
      upstreamCache,
      webhooks,
      metrics,
      yoga: server.yoga,
      close: () => (closing ??= teardown.run()),
    };
  } catch (error) {
    await teardown.run().catch(() => undefined);
    throw error;
  }
}
