import type { GraphQLSchema } from 'graphql';
import type { UpstreamCache } from '../cache/upstream-cache';
import type { Catalog } from '../catalog/catalog';
import { compileCatalog } from '../catalog/compile-catalog';
import type { VirtualizationConfig } from '../config/definition';
import type { CallerCredential } from '../connectors/caller-credential';
import type { CallObserver } from '../connectors/upstream-call';
import type { EgressGuard } from '../connectors/egress-guard';
import { SourceConnector, type RejectionListener } from '../connectors/source-connector';
import type { MappingStore } from '../mapping/mapping-store';
import { defaultLogger, type Logger } from '../telemetry/logger';
import type { TimerClock } from '../time/clock';
import type { CanonicalSchema } from './canonical-schema';
import { buildGatewaySchema } from './gateway-schema';
import { createFederationContext, type FederationContext, type RequestHooks } from './request-context';
import { serviceCrosswalks } from './service-crosswalks';

/**
 * What one generation is built from. The stores and the cache outlive generations (a schema swap
 * keeps them), so they are passed in by the owner that opened them and left open on close.
 */
export interface GatewayOptions {
  /** The model in `schema/`, read once by the owner. */
  canonical: CanonicalSchema;
  env: NodeJS.ProcessEnv;
  /** Where crosswalk pairs live (the configuration's files already loaded). */
  store: MappingStore;
  /** The upstream-call cache across requests (`cache.upstream`, `cache.shared`). */
  upstreamCache: UpstreamCache;
  onReject?: RejectionListener;
  /** Where rejected records are reported when no `onReject` is given; the default application log otherwise. */
  logger?: Logger;
  observe?: CallObserver;
  /** The clock of the sources' policies (backoff, breaker, rate limit, token lifetime); default the process's. */
  sourceClock?: TimerClock;
  /**
   * The egress policy of registered sources: every source that `configured` (the configuration
   * file's own, trusted as written) does not name connects through `guard`. Absent for a
   * generation of the configuration alone.
   */
  egress?: { guard: EgressGuard; configured: ReadonlySet<string> };
}

/** The federated engine: the unified schema, and what each request needs to execute it. */
export interface Gateway {
  readonly schema: GraphQLSchema;
  /** The model in `schema/` as written, including what only the guard reads (cost directives). */
  readonly canonical: CanonicalSchema;
  readonly config: VirtualizationConfig;
  /** What the rooms need to know about this generation's sources, entities and mappings, compiled once from `config`. */
  readonly catalog: Catalog;
  readonly connectors: ReadonlyMap<string, SourceConnector>;
  /** The upstream-call cache across requests (`cache.upstream`). */
  readonly upstreamCache: UpstreamCache;
  /** The environment secrets are resolved from. */
  readonly env: NodeJS.ProcessEnv;
  /** The id mappings, to find an entity's identities in every system. */
  readonly store: MappingStore;
  /** One request's context; `caller` is whom its calls are for (read by sources that forward their caller). */
  createContext(hooks?: RequestHooks, caller?: CallerCredential): FederationContext;
  close(): Promise<void>;
}

/** Default report of a record left out of an answer: a warning in the application log, with no payload values. */
function logRejections(logger: Logger): RejectionListener {
  return (event) =>
    logger.warn({ source: event.source, entity: event.entity, key: event.key, field: event.field, from: event.from, reason: event.reason }, 'record rejected by its mapping');
}

/**
 * One generation of the federated engine over a configuration: its catalog, its schema, its
 * connectors and its joins. Closing it closes its connectors only.
 */
export function createGateway(config: VirtualizationConfig, options: GatewayOptions): Gateway {
  const { canonical, env, upstreamCache } = options;
  const catalog = compileCatalog(config);
  const logger = options.logger ?? defaultLogger();
  const schema = buildGatewaySchema(catalog, canonical, {
    strict: config.canonical.strict,
    warn: (missing) => logger.warn({ missing }, 'canonical types and fields that no source serves are left out of the schema (canonical.strict refuses them)'),
  });
  const onReject = options.onReject ?? logRejections(logger);
  const connectors = new Map(
    [...catalog.sources.values()].map((source) => [
      source.name,
      new SourceConnector(source.name, source.definition, {
        env,
        onReject,
        catalog,
        ...(options.sourceClock ? { clock: options.sourceClock } : {}),
        ...(options.egress && !options.egress.configured.has(source.name) ? { egress: options.egress.guard } : {}),
      }),
    ]),
  );
  const lookup = upstreamCache.lookup.bind(upstreamCache);
  const crosswalks = serviceCrosswalks(catalog, options.store, connectors, lookup);
  const store = crosswalks.store;
  return {
    schema,
    canonical,
    config,
    catalog,
    connectors,
    upstreamCache,
    store,
    env,
    createContext: (hooks, caller) => createFederationContext(connectors, crosswalks.forRequest, options.observe, hooks, lookup, caller),
    close: async () => {
      await Promise.all([...connectors.values()].map((connector) => connector.close()));
    },
  };
}
