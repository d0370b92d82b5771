import { isAbsolute, resolve } from 'node:path';
import { UpstreamCache, type UpstreamCacheDeps } from '../cache/upstream-cache';
import type { VirtualizationConfig } from '../config/definition';
import { resolveEnv } from '../config/env';
import type { RejectionListener } from '../connectors/source-connector';
import { CanonicalSchema } from '../federation/canonical-schema';
import { createGateway, type Gateway } from '../federation/gateway';
import { importCrosswalkCsv } from '../mapping/crosswalk-file';
import { MemoryMappingStore, type MappingStore } from '../mapping/mapping-store';
import { routeMappings } from '../mapping/routed-mapping-store';
import type { HostResolver } from './egress-policy';
import { FileRegistryStore } from './file-registry-store';
import { PostgresRegistryStore } from './postgres-registry-store';
import { writeLog, type RegistryLog } from './registry-log';
import { Registry } from './registry';
import type { RegistryStore } from './registry-store';

export interface RegistryOptions {
  /** Directory that relative paths of the configuration resolve against. */
  baseDir: string;
  env: NodeJS.ProcessEnv;
  /** One JSON object per event (swaps, reload failures, imports); default a line in the application log. */
  log?: RegistryLog;
  /** DNS for the egress check (tests replace it). */
  resolveHost?: HostResolver;
  onReject?: RejectionListener;
  /** What the upstream-call cache that every generation shares is given (its clock, its counters, its log). */
  cacheDeps?: Omit<UpstreamCacheDeps, 'env'>;
}

/** The store `registry.store` declares: files under a directory (embedded) or PostgreSQL (fleets). */
async function openRegistryStore(config: VirtualizationConfig, baseDir: string, env: NodeJS.ProcessEnv, log: RegistryLog): Promise<RegistryStore> {
  const store = config.registry.store;
  if (store.kind === 'file') return FileRegistryStore.open(isAbsolute(store.dir) ? store.dir : resolve(baseDir, store.dir));
  return PostgresRegistryStore.open({
    url: resolveEnv(store.url, env),
    schema: store.schema,
    pollIntervalMs: store.pollIntervalMs,
    onListenError: (error) => log({ level: 'warn', msg: 'registry notifications interrupted; reconnecting', reason: error.message }),
  });
}

/** The configuration's crosswalk files (memory) and the store's imported pairs, as one mapping store. */
async function openTables(base: VirtualizationConfig, at: (path: string) => string, store: RegistryStore): Promise<MappingStore> {
  const fileTables = new MemoryMappingStore();
  const fromFiles = new Map<string, MappingStore>();
  for (const [name, mapping] of Object.entries(base.mappings)) {
    const via = mapping.via;
    if (via.kind !== 'crosswalk' || !via.file || !via.columns) continue;
    await importCrosswalkCsv(fileTables, name, at(via.file), via.columns);
    fromFiles.set(name, fileTables);
  }
  return routeMappings(fromFiles, store.mappings);
}

/**
 * The registry over a configuration, with the store it declares: loads the configuration's
 * crosswalk files, opens one upstream-call cache for every generation (what a swap keeps), builds
 * the configuration's generation, then the registered one.
 */
export async function openRegistry(base: VirtualizationConfig, options: RegistryOptions): Promise<Registry> {
  const log = options.log ?? writeLog;
  const store = await openRegistryStore(base, options.baseDir, options.env, log);
  try {
    const at = (path: string) => (isAbsolute(path) ? path : resolve(options.baseDir, path));
    const canonical = CanonicalSchema.fromDirectory(at(base.schemaDir));
    const tables = await openTables(base, at, store);
    const snapshot = await store.load();
    const upstreamCache = await UpstreamCache.open(base.cache, { env: options.env, ...options.cacheDeps });
    const build = (config: VirtualizationConfig): Promise<Gateway> =>
      createGateway(config, { baseDir: options.baseDir, env: options.env, store: tables, upstreamCache, loadCrosswalkFiles: false, ...(options.onReject ? { onReject: options.onReject } : {}) });
    let initial: Gateway;
    try {
      initial = await build(base);
    } catch (error) {
      await upstreamCache.close();
      throw error;
    }
    const registry = new Registry({
      base,
      canonical,
      tables,
      store,
      snapshot,
      initial,
      build,
      env: options.env,
      log,
      ...(options.resolveHost ? { resolveHost: options.resolveHost } : {}),
      onClose: async () => {
        await store.close();
        await upstreamCache.close();
      },
    });
    await registry.start();
    return registry;
  } catch (error) {
    await store.close();
    throw error;
  }
}
