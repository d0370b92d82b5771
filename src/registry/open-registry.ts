import { isAbsolute, resolve } from 'node:path';
import type { VirtualizationConfig } from '../config/definition';
import { resolveEnv } from '../config/env';
import { FileRegistryStore } from './file-registry-store';
import { PostgresRegistryStore } from './postgres-registry-store';
import { Registry, writeLog, type RegistryOptions } from './registry';
import type { RegistryStore } from './registry-store';

/** The store `registry.store` declares: files under a directory (embedded) or PostgreSQL (fleets). */
async function openRegistryStore(config: VirtualizationConfig, baseDir: string, env: NodeJS.ProcessEnv, log: (event: Record<string, unknown>) => void): Promise<RegistryStore> {
  const store = config.registry.store;
  if (store.kind === 'file') return FileRegistryStore.open(isAbsolute(store.dir) ? store.dir : resolve(baseDir, store.dir));
  return PostgresRegistryStore.open({
    url: resolveEnv(store.url, env),
    schema: store.schema,
    pollIntervalMs: store.pollIntervalMs,
    onListenError: (error) => log({ level: 'warn', msg: 'registry notifications interrupted; reconnecting', reason: error.message }),
  });
}

/** The registry over a configuration, with the store it declares. */
export async function openRegistry(config: VirtualizationConfig, options: Omit<RegistryOptions, 'store'>): Promise<Registry> {
  const log = options.log ?? writeLog;
  const store = await openRegistryStore(config, options.baseDir, options.env, log);
  try {
    return await Registry.open(config, { ...options, log, store });
  } catch (error) {
    await store.close();
    throw error;
  }
}
