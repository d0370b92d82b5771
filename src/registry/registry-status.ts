import type { VirtualizationConfig } from '../config/definition';
import type { MappingStore } from '../mapping/mapping-store';
import type { CrosswalkImporter } from './crosswalk-import';
import type { RegistryRevision } from './registry-revision';
import type { RegistryStore } from './registry-store';
import type { RegistryStatus } from './registry-reports';

export interface StatusParts {
  base: VirtualizationConfig;
  revision: RegistryRevision;
  store: RegistryStore;
  tables: MappingStore;
  importer: CrosswalkImporter;
}

/** What `/readyz` reports about the registry: whether this replica is on the latest revision, and if not why. */
export function registryReadiness({ revision, store }: Pick<StatusParts, 'revision' | 'store'>): Pick<RegistryStatus, 'registryRevision' | 'store' | 'lastReload'> {
  return { registryRevision: revision.snapshot.revision, store: store.description, ...(revision.lastReload ? { lastReload: revision.lastReload } : {}) };
}

/** The registry as `virtualize status` shows it: versions, each source's state, each mapping's pairs, imports under way. */
export async function registryStatus({ base, revision, store, tables, importer }: StatusParts): Promise<RegistryStatus> {
  const live = revision.live;
  const config = live.config;
  const mappings = await Promise.all(
    Object.entries(config.mappings).map(async ([name, mapping]) => ({
      name,
      origin: name in base.mappings ? ('config' as const) : ('registry' as const),
      kind: mapping.via.kind,
      from: `${mapping.from.entity}.${mapping.from.field}`,
      to: `${mapping.to.entity}.${mapping.to.field}`,
      ...(mapping.via.kind === 'crosswalk' ? { pairs: await tables.count(name) } : {}),
    })),
  );
  return {
    schemaVersion: live.version,
    registryRevision: revision.snapshot.revision,
    store: store.description,
    ...(revision.lastReload ? { lastReload: revision.lastReload } : {}),
    sources: [...live.connectors].map(([name, connector]) => ({
      name,
      origin: name in base.sources ? 'config' : 'registry',
      entities: [...live.catalog.source(name).entities],
      ...connector.http.health(),
    })),
    mappings,
    imports: importer.inProgress(),
  };
}
