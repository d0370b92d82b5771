import { isAbsolute, resolve } from 'node:path';
import type { VirtualizationConfig } from '../config/definition';
import { resolveEnv } from '../config/env';
import { FileRegistryStore } from './file-registry-store';
import { PostgresRegistryStore } from './postgres-registry-store';
import type { RegistryLog } from './registry-log';
import type { RegistryStore } from './registry-store';

/** The store `registry.store` declares: files under a directory (embedded) or PostgreSQL (fleets). */
export async function openRegistryStore(config: VirtualizationConfig, baseDir: string, env: NodeJS.ProcessEnv, log: RegistryLog): Promise<RegistryStore> {
  const store = config.registry.store;
  if (store.kind === 'file') return FileRegistryStore.open(isAbsolute(store.dir) ? store.dir : resolve(baseDir, store.dir));
  return PostgresRegistryStore.open({
    url: resolveEnv(store.url, env),
    schema: store.schema,
    pollIntervalMs: store.pollIntervalMs,
    onListenError: (error) => log({ level: 'warn', msg: 'registry notifications interrupted; reconnecting', reason: error.message }),
  });
}
