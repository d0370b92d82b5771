import { loaderId, type CatalogEntity, type CatalogLoader, type CatalogLookup, type CatalogMapping, type CatalogSource, type KeyNormalization, type LoaderId } from './catalog-entries';
import { UnknownCatalogNameError } from './catalog-errors';

/**
 * What several rooms need to know about the sources, their entities and the mappings between
 * them, compiled once per schema generation (`compileCatalog`) and immutable afterwards: the
 * source that owns each entity, its root field names, its lookups with their loader identity,
 * batch size, value type and pattern, its list's paging, and for each mapping its kind, directions
 * and the lookups it uses. Federation, the guard, the connectors' request loaders, the registry
 * and the cache read these entries instead of deriving them from the definitions again.
 *
 * Lookups by name throw `UnknownCatalogNameError`, which lists the names that exist; the maps are
 * there for callers that iterate or that treat an absent name as an answer.
 */
export class Catalog {
  constructor(
    readonly sources: ReadonlyMap<string, CatalogSource>,
    readonly entities: ReadonlyMap<string, CatalogEntity>,
    readonly mappings: ReadonlyMap<string, CatalogMapping>,
    private readonly loaders: ReadonlyMap<LoaderId, CatalogLoader>,
  ) {
    Object.freeze(this);
  }

  source(name: string): CatalogSource {
    const source = this.sources.get(name);
    if (!source) throw new UnknownCatalogNameError('source', name, [...this.sources.keys()]);
    return source;
  }

  entity(name: string): CatalogEntity {
    const entity = this.entities.get(name);
    if (!entity) throw new UnknownCatalogNameError('entity', name, [...this.entities.keys()]);
    return entity;
  }

  /** The name of the source that serves `entity`. */
  ownerOf(entity: string): string {
    return this.entity(entity).source;
  }

  /** The lookup of `entity` by `field`. */
  lookup(entity: string, field: string): CatalogLookup {
    const found = this.entity(entity);
    const lookup = found.lookups.get(field);
    if (!lookup) throw new UnknownCatalogNameError('lookup', field, [...found.lookups.keys()], `entity ${entity}`);
    return lookup;
  }

  /**
   * The per-request loader of `entity` by `field` with keys normalized by `normalize`: always the
   * same object for the same three, so that its `id` and batch size are one answer everywhere.
   */
  loader(entity: string, field: string, normalize: KeyNormalization = 'none'): CatalogLoader {
    const lookup = this.lookup(entity, field);
    const loader = this.loaders.get(loaderId(lookup.source, entity, field, normalize));
    if (!loader) throw new UnknownCatalogNameError('lookup', `${field} (normalized: ${normalize})`, [...this.loaders.keys()], `entity ${entity}`);
    return loader;
  }

  mapping(name: string): CatalogMapping {
    const mapping = this.mappings.get(name);
    if (!mapping) throw new UnknownCatalogNameError('mapping', name, [...this.mappings.keys()]);
    return mapping;
  }
}
