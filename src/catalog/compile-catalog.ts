import type { EntityDefinition, ListDefinition, LookupDefinition, MappingDefinition, VirtualizationConfig } from '../config/definition';
import { entityOwners } from '../config/entity-owners';
import { Catalog } from './catalog';
import {
  loaderId,
  type CatalogEntity,
  type CatalogList,
  type CatalogLoader,
  type CatalogLookup,
  type CatalogMapping,
  type CatalogSource,
  type KeyNormalization,
  type LoaderId,
  type MappingSide,
  type ServiceLink,
} from './catalog-entries';
import { CatalogDefinitionError } from './catalog-errors';
import { rootFieldNames } from './root-names';

/** The largest `first` a list root accepts; larger ones are refused as bad input before any call. */
export const LIST_MAX_FIRST = 1_000;

/** Every key normalization; the check below fails to compile when the definition gains one that is not listed. */
const NORMALIZATIONS = ['none', 'email', 'trim', 'lowercase'] as const satisfies readonly KeyNormalization[];
const everyNormalizationListed: Exclude<KeyNormalization, (typeof NORMALIZATIONS)[number]> extends never ? true : never = true;
void everyNormalizationListed;

/** The most pages a paged lookup reads per call when it declares no `maxPages`. */
export const DEFAULT_LOOKUP_PAGES = 10;

function compileLookup(source: string, entity: string, field: string, endpoint: LookupDefinition): CatalogLookup {
  return Object.freeze({
    source,
    entity,
    field,
    route: `${endpoint.method} ${endpoint.path}`,
    batch: endpoint.batch ? Object.freeze({ maxSize: endpoint.batch.maxSize, separator: endpoint.batch.separator }) : undefined,
    batchSize: endpoint.batch?.maxSize ?? 1,
    pagesPerCall: endpoint.paging ? (endpoint.maxPages ?? DEFAULT_LOOKUP_PAGES) : 1,
    unique: endpoint.unique,
    valueType: endpoint.valueType,
    pattern: endpoint.pattern,
    endpoint,
  });
}

function compileList(source: string, entity: string, endpoint: ListDefinition): CatalogList {
  const paging = endpoint.paging;
  return Object.freeze({
    source,
    entity,
    route: `${endpoint.method} ${endpoint.path}`,
    paging: paging.type,
    pageSize: paging.type === 'page' ? paging.pageSize : paging.maxPageSize,
    maxFirst: LIST_MAX_FIRST,
    filters: new Map(Object.entries(endpoint.filters ?? {}).map(([arg, filter]) => [arg, Object.freeze({ param: filter.param, field: filter.field })])),
    endpoint,
  });
}

/**
 * Compiles the catalog of a configuration (or of the sources and mappings of one schema
 * generation). Pure: it reads the definitions and nothing else, and the same definitions always
 * give equal catalogs. The definitions must have passed validation; what the catalog cannot be
 * built from is reported all at once in a `CatalogDefinitionError`.
 */
export function compileCatalog(config: Pick<VirtualizationConfig, 'sources' | 'mappings'>): Catalog {
  const problems: string[] = [];
  const { owners, duplicates } = entityOwners(config);
  for (const duplicate of duplicates) problems.push(`entity ${duplicate.entity} is served by both ${duplicate.owner} and ${duplicate.source}`);

  const sources = new Map<string, CatalogSource>();
  const entities = new Map<string, CatalogEntity>();
  const loaders = new Map<LoaderId, CatalogLoader>();

  for (const [sourceName, source] of Object.entries(config.sources)) {
    const served: string[] = [];
    for (const [entityName, entity] of Object.entries(source.entities)) {
      if (owners.get(entityName) !== sourceName) continue;
      served.push(entityName);
      const compiled = compileEntity(sourceName, entityName, entity, loaders, problems);
      if (compiled) entities.set(entityName, compiled);
    }
    sources.set(sourceName, Object.freeze({ name: sourceName, definition: source, entities: Object.freeze(served), maxCallsPerRequest: source.limits.maxCallsPerRequest }));
  }

  const mappings = new Map<string, CatalogMapping>();
  for (const [name, mapping] of Object.entries(config.mappings)) {
    const compiled = compileMapping(name, mapping, entities, loaders, problems);
    if (compiled) mappings.set(name, compiled);
  }
  if (problems.length > 0) throw new CatalogDefinitionError(problems);
  return new Catalog(sources, entities, mappings, loaders);
}

function compileEntity(source: string, name: string, entity: EntityDefinition, loaders: Map<LoaderId, CatalogLoader>, problems: string[]): CatalogEntity | undefined {
  const lookups = new Map(Object.entries(entity.lookups).map(([field, endpoint]) => [field, compileLookup(source, name, field, endpoint)]));
  for (const lookup of lookups.values()) {
    for (const normalize of NORMALIZATIONS) {
      const id = loaderId(source, name, lookup.field, normalize);
      loaders.set(id, Object.freeze({ id, lookup, normalize }));
    }
  }
  const keyLookup = lookups.get(entity.key);
  if (!keyLookup) {
    problems.push(`entity ${name} of source ${source} has no lookup by its key ${entity.key}`);
    return undefined;
  }
  const list = entity.list ? compileList(source, name, entity.list) : undefined;
  return Object.freeze({
    name,
    source,
    key: entity.key,
    definition: entity,
    roots: Object.freeze(rootFieldNames(name, entity)),
    lookups,
    keyLookup,
    keyLoader: loaders.get(loaderId(source, name, entity.key, 'none'))!,
    list,
    capabilities: Object.freeze({
      batchLookup: keyLookup.batch !== undefined,
      paging: list?.paging ?? 'none',
      filters: Object.freeze([...(list?.filters.keys() ?? [])]),
    }),
  });
}

function compileMapping(
  name: string,
  mapping: MappingDefinition,
  entities: ReadonlyMap<string, CatalogEntity>,
  loaders: ReadonlyMap<LoaderId, CatalogLoader>,
  problems: string[],
): CatalogMapping | undefined {
  const at = `mapping ${name}`;
  const side = (end: 'from' | 'to'): MappingSide | undefined => {
    const { entity, field } = mapping[end];
    const served = entities.get(entity);
    if (!served) {
      problems.push(`${at}: no source serves its ${end} entity ${entity}`);
      return undefined;
    }
    return Object.freeze({ entity, field, source: served.source, lookup: served.lookups.get(field) });
  };
  const normalize: KeyNormalization = mapping.via.kind === 'fieldKey' ? mapping.via.normalize : 'none';
  const loaderOf = (end: MappingSide, why: string): CatalogLoader | undefined => {
    if (end.lookup) return loaders.get(loaderId(end.source, end.entity, end.field, normalize));
    problems.push(`${at}: ${end.entity} has no lookup by ${end.field}, which ${why} needs`);
    return undefined;
  };
  const from = side('from');
  const to = side('to');
  if (!from || !to) return undefined;

  const forwardLoader = loaderOf(to, mapping.forward.field);
  const inverseLoader = mapping.inverse ? loaderOf(from, mapping.inverse.field) : undefined;
  const service = mapping.via.kind === 'service' ? serviceLink(at, mapping, mapping.via, entities, loaders, problems) : undefined;
  if (!forwardLoader || (mapping.inverse && !inverseLoader) || (mapping.via.kind === 'service' && !service)) return undefined;

  return Object.freeze({
    name,
    kind: mapping.via.kind,
    definition: mapping,
    normalize,
    from,
    to,
    forward: Object.freeze({
      field: mapping.forward.field,
      loader: forwardLoader,
      summaries: Object.freeze(Object.keys(mapping.forward.summaries ?? {})),
      slicingArguments: Object.freeze(Object.entries(mapping.forward.args ?? {}).flatMap(([arg, def]) => ('slice' in def ? [arg] : []))),
    }),
    inverse: mapping.inverse && inverseLoader ? Object.freeze({ field: mapping.inverse.field, loader: inverseLoader }) : undefined,
    service,
  });
}

type ServiceVia = Extract<MappingDefinition['via'], { kind: 'service' }>;

function serviceLink(
  at: string,
  mapping: MappingDefinition,
  via: ServiceVia,
  entities: ReadonlyMap<string, CatalogEntity>,
  loaders: ReadonlyMap<LoaderId, CatalogLoader>,
  problems: string[],
): ServiceLink | undefined {
  const entity = entities.get(via.entity);
  if (!entity) {
    problems.push(`${at}: no source serves its crosswalk entity ${via.entity}`);
    return undefined;
  }
  const from = entity.lookups.get(via.from);
  if (!from) {
    problems.push(`${at}: the crosswalk entity ${via.entity} has no lookup by ${via.from}`);
    return undefined;
  }
  const to = entity.lookups.get(via.to);
  if (mapping.inverse && !to) {
    problems.push(`${at}: its inverse ${mapping.inverse.field} asks the crosswalk entity ${via.entity} by ${via.to}, and it has no lookup by ${via.to}: declare one, or remove the inverse`);
    return undefined;
  }
  const loaderOf = (lookup: CatalogLookup) => loaders.get(loaderId(entity.source, via.entity, lookup.field, 'none'))!;
  return Object.freeze({
    entity: via.entity,
    source: entity.source,
    from,
    fromLoader: loaderOf(from),
    to,
    toLoader: to ? loaderOf(to) : undefined,
    fromField: via.from,
    toField: via.to,
    cacheTtlMs: via.cacheTtlMs,
  });
}
