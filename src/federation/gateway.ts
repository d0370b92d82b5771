import { isAbsolute, resolve } from 'node:path';
import type { GraphQLSchema } from 'graphql';
import { UpstreamCache, type UpstreamCacheDeps } from '../cache/upstream-cache';
import type { Catalog } from '../catalog/catalog';
import { compileCatalog } from '../catalog/compile-catalog';
import type { VirtualizationConfig } from '../config/definition';
import type { CallObserver } from '../connectors/upstream-call';
import { SourceConnector, type RejectionListener } from '../connectors/source-connector';
import { importCrosswalkCsv } from '../mapping/crosswalk-file';
import { MemoryMappingStore, type MappingStore } from '../mapping/mapping-store';
import { defaultLogger, type Logger } from '../telemetry/logger';
import type { TimerClock } from '../time/clock';
import { CanonicalSchema } from './canonical-schema';
import { buildGatewaySchema } from './gateway-schema';
import { createFederationContext, type FederationContext, type RequestHooks } from './request-context';
import { withServiceCrosswalks } from './service-crosswalks';

export interface GatewayOptions {
  /** Directory that relative paths in the config (schema, crosswalk files) are resolved against. */
  baseDir?: string;
  env?: NodeJS.ProcessEnv;
  /** Where crosswalk pairs live; by default a memory store that the gateway owns and closes. A store passed in is left open. */
  store?: MappingStore;
  /** Whether to load the crosswalk files the config names into the store (default true). */
  loadCrosswalkFiles?: boolean;
  onReject?: RejectionListener;
  /** Where rejected records are reported when no `onReject` is given; the default application log otherwise. */
  logger?: Logger;
  observe?: CallObserver;
  /**
   * The upstream-call cache, when it outlives this gateway (the registry's generations share one);
   * left open on close. By default the gateway opens its own (`cache.upstream`, `cache.shared`).
   */
  upstreamCache?: UpstreamCache;
  /** What the upstream-call cache the gateway opens is given (its clock, its counters); `env` and `logger` are the gateway's. */
  cacheDeps?: Omit<UpstreamCacheDeps, 'env'>;
  /** The clock of the sources' policies (backoff, breaker, rate limit, token lifetime); default the process's. */
  sourceClock?: TimerClock;
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
  createContext(hooks?: RequestHooks): FederationContext;
  close(): Promise<void>;
}

/** Default report of a record left out of an answer: a warning in the application log, with no payload values. */
function logRejections(logger: Logger): RejectionListener {
  return (event) =>
    logger.warn({ source: event.source, entity: event.entity, key: event.key, field: event.field, from: event.from, reason: event.reason }, 'record rejected by its mapping');
}

export async function createGateway(config: VirtualizationConfig, options: GatewayOptions = {}): Promise<Gateway> {
  const baseDir = options.baseDir ?? process.cwd();
  const at = (path: string) => (isAbsolute(path) ? path : resolve(baseDir, path));
  const canonical = CanonicalSchema.fromDirectory(at(config.schemaDir));
  const catalog = compileCatalog(config);
  const schema = buildGatewaySchema(catalog, canonical);

  const tables = options.store ?? new MemoryMappingStore();
  if (options.loadCrosswalkFiles ?? true) {
    for (const [name, mapping] of Object.entries(config.mappings)) {
      const via = mapping.via;
      if (via.kind === 'crosswalk' && via.file && via.columns) await importCrosswalkCsv(tables, name, at(via.file), via.columns);
    }
  }
  const onReject = options.onReject ?? logRejections(options.logger ?? defaultLogger());
  const connectors = new Map(
    [...catalog.sources.values()].map((source) => [
      source.name,
      new SourceConnector(source.name, source.definition, { env: options.env ?? process.env, onReject, catalog, ...(options.sourceClock ? { clock: options.sourceClock } : {}) }),
    ]),
  );
  const store = withServiceCrosswalks(catalog, tables, connectors);
  const upstreamCache = options.upstreamCache ?? (await UpstreamCache.open(config.cache, { env: options.env, ...(options.logger ? { logger: options.logger } : {}), ...options.cacheDeps }));
  const lookup = upstreamCache.lookup.bind(upstreamCache);
  return {
    schema,
    canonical,
    config,
    catalog,
    connectors,
    upstreamCache,
    store,
    env: options.env ?? process.env,
    createContext: (hooks) => createFederationContext(connectors, store, options.observe, hooks, lookup),
    close: async () => {
      await Promise.all([...connectors.values()].map((connector) => connector.close()));
      if (!options.upstreamCache) await upstreamCache.close();
      if (!options.store) await tables.close();
    },
  };
}
