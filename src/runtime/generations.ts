import { existsSync } from 'node:fs';
import { accessModelOf } from '../auth/generation-access';
import { UpstreamCache } from '../cache/upstream-cache';
import type { VirtualizationConfig } from '../config/definition';
import type { EgressGuard } from '../connectors/egress-guard';
import type { CallObserver } from '../connectors/upstream-call';
import type { RejectionListener } from '../connectors/source-connector';
import { CanonicalSchema } from '../federation/canonical-schema';
import { createGateway, type Gateway } from '../federation/gateway';
import type { MappingStore } from '../mapping/mapping-store';
import type { Logger } from '../telemetry/logger';
import type { TimerClock } from '../time/clock';
import { openMappingStores, pathIn } from './mapping-stores';

/** What every schema generation of one gateway shares: the model, the mappings, the upstream-call cache. */
export interface GenerationParts {
  canonical: CanonicalSchema;
  env: NodeJS.ProcessEnv;
  tables: MappingStore;
  upstreamCache: UpstreamCache;
  onReject?: RejectionListener;
  /** Where rejected records are reported when no `onReject` is given. */
  logger?: Logger;
  observe?: CallObserver;
  /** The clock of the sources' policies; default the process's. */
  sourceClock?: TimerClock;
  /** The egress policy of registered sources (every source the configuration file does not declare). */
  egress?: { guard: EgressGuard; configured: ReadonlySet<string> };
}

/** Builds the generation of a whole configuration on the shared parts (what the registry swaps in). */
export function generationBuilder(parts: GenerationParts): (config: VirtualizationConfig) => Promise<Gateway> {
  return async (config) => {
    const gateway = createGateway(config, { ...parts, store: parts.tables });
    try {
      // Who may see what is part of the generation: a malformed declaration refuses it here.
      accessModelOf(gateway);
    } catch (error) {
      await gateway.close();
      throw error;
    }
    return gateway;
  };
}

/**
 * The hand-written canonical types the configuration names (`schemaDir`; a config file resolves it
 * against its own directory). Left out: `schema/` under `baseDir` when it exists, else none.
 */
export function loadCanonical(config: VirtualizationConfig, baseDir: string): CanonicalSchema {
  if (config.schemaDir === false) return CanonicalSchema.empty();
  if (config.schemaDir === undefined) {
    const beside = pathIn(baseDir)('schema');
    return existsSync(beside) ? CanonicalSchema.fromDirectory(beside) : CanonicalSchema.empty();
  }
  return CanonicalSchema.fromDirectory(pathIn(baseDir)(config.schemaDir));
}

/**
 * The generation of the configuration alone, with no server and no registry, on parts of its own
 * (closed with it): what `virtualize validate`, `schema` and `cost` read. Built by the same
 * steps as a running gateway's.
 */
export async function createGeneration(config: VirtualizationConfig, deps: { baseDir: string; env: NodeJS.ProcessEnv; logger?: Logger }): Promise<Gateway> {
  const canonical = loadCanonical(config, deps.baseDir);
  const tables = await openMappingStores(config, deps.baseDir);
  const upstreamCache = await UpstreamCache.open(config.cache, { env: deps.env, ...(deps.logger ? { logger: deps.logger } : {}) });
  let generation: Gateway;
  try {
    generation = await generationBuilder({ canonical, env: deps.env, tables, upstreamCache, ...(deps.logger ? { logger: deps.logger } : {}) })(config);
  } catch (error) {
    await upstreamCache.close();
    await tables.close();
    throw error;
  }
  return {
    ...generation,
    close: async () => {
      await generation.close();
      await upstreamCache.close();
      await tables.close();
    },
  };
}
