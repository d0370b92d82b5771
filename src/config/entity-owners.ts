import type { VirtualizationConfig } from './definition';

/** An entity that a second source also declares; the first declaration owns it. */
export interface DuplicateEntity {
  entity: string;
  /** The source whose declaration came first, and owns the entity. */
  owner: string;
  /** The source that declares it again. */
  source: string;
}

export interface EntityOwners {
  /** Entity name -> the source that serves it, in declaration order. */
  owners: Map<string, string>;
  duplicates: DuplicateEntity[];
}

/**
 * The source that serves each entity: the one place this is read from a configuration. The
 * catalog is compiled from it, and the reference checks use it to refuse an entity declared by
 * two sources (which a valid configuration therefore never has).
 */
export function entityOwners(config: Pick<VirtualizationConfig, 'sources'>): EntityOwners {
  const owners = new Map<string, string>();
  const duplicates: DuplicateEntity[] = [];
  for (const [sourceName, source] of Object.entries(config.sources)) {
    for (const entityName of Object.keys(source.entities)) {
      const owner = owners.get(entityName);
      if (owner === undefined) owners.set(entityName, sourceName);
      else duplicates.push({ entity: entityName, owner, source: sourceName });
    }
  }
  return { owners, duplicates };
}
