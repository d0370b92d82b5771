/**
 * What the catalog holds about each source, entity, lookup, list and mapping. Every entry is
 * compiled once per schema generation from the definitions and never changes afterwards; the
 * rooms that read an entry (federation, connectors, guard, registry, cache) are guaranteed to see
 * the same values, so that what the guard predicts and what the connectors do cannot drift.
 *
 * `definition` and `endpoint` fields hand on the declared object itself, for the parts only one
 * room interprets (request templates, field mappings, summaries); everything several rooms need
 * is read out of it here, once.
 */
import type { EntityDefinition, ListDefinition, LookupDefinition, MappingDefinition, SourceDefinition } from '../config/definition';

/** How key values are normalized before they are compared: a field-key mapping's `normalize`, `none` for every other loader. */
export type KeyNormalization = Extract<MappingDefinition['via'], { kind: 'fieldKey' }>['normalize'];

/**
 * The identity of one per-request loader: `source/Entity/field/normalization`, e.g.
 * `orders/Order/customerRef/none`. The connectors' request loaders are keyed by it and the guard
 * counts predicted calls per id, so one id is one batch queue in both.
 */
export type LoaderId = `${string}/${string}/${string}/${KeyNormalization}`;

/** The one place the loader id format is written. Names are identifiers (letters and digits), so `/` never occurs inside one. */
export function loaderId(source: string, entity: string, field: string, normalize: KeyNormalization): LoaderId {
  return `${source}/${entity}/${field}/${normalize}`;
}

export interface CatalogSource {
  readonly name: string;
  readonly definition: Readonly<SourceDefinition>;
  /** The entities it serves (and owns), in declaration order. */
  readonly entities: readonly string[];
  /** Most calls to it that one request may make, as predicted (`limits.maxCallsPerRequest`); undefined: no cap. */
  readonly maxCallsPerRequest: number | undefined;
}

/** An endpoint that fetches records of an entity by the values of one canonical field. */
export interface CatalogLookup {
  readonly source: string;
  readonly entity: string;
  readonly field: string;
  /** The route template calls are counted and reported by, e.g. `GET /api/orders`. */
  readonly route: string;
  /** The batch endpoint's bounds; undefined when the endpoint takes one value per call. */
  readonly batch: { readonly maxSize: number; readonly separator: string } | undefined;
  /** Values per upstream call: `batch.maxSize`, or 1 without a batch endpoint. */
  readonly batchSize: number;
  /** Upstream pages per call at most: a paged lookup's `maxPages` (default 10), else 1. The guard predicts this many. */
  readonly pagesPerCall: number;
  /** A value names at most one record (an id, a unique email). */
  readonly unique: boolean;
  /** How values are written into a JSON body. */
  readonly valueType: 'string' | 'number';
  /** The regular expression every findable value matches, as declared; undefined: any value. */
  readonly pattern: string | undefined;
  readonly endpoint: Readonly<LookupDefinition>;
}

/**
 * One per-request loader: the values a request asks of one lookup, compared after one key
 * normalization (a field-key join asks for normalized emails, a root field for ids as given).
 */
export interface CatalogLoader {
  readonly id: LoaderId;
  readonly lookup: CatalogLookup;
  readonly normalize: KeyNormalization;
}

/** The paging kinds of list endpoints; `none` for an entity without a list. */
export type PagingKind = ListDefinition['paging']['type'] | 'none';

/** An entity's list endpoint, behind its list root field. */
export interface CatalogList {
  readonly source: string;
  readonly entity: string;
  readonly route: string;
  readonly paging: Exclude<PagingKind, 'none'>;
  /** Records per upstream call at most: `maxPageSize` (cursor, offset, link, nextUrl), page-number paging's `pageSize`. */
  readonly pageSize: number;
  /** The largest `first` the list root accepts; a larger one is refused as bad input before any call. */
  readonly maxFirst: number;
  /** Root field argument -> the query parameter it becomes and the canonical field it filters. */
  readonly filters: ReadonlyMap<string, { readonly param: string; readonly field: string }>;
  readonly endpoint: Readonly<ListDefinition>;
}

/**
 * The root fields an entity publishes, by name; false when it publishes none of that kind.
 * `many` is published only when the key lookup has a batch endpoint, `list` only when the entity
 * declares a list.
 */
export interface RootFieldNames {
  readonly one: string | false;
  readonly many: string | false;
  readonly list: string | false;
}

/** What an entity's source can do for the engine; what it cannot is said plainly here, never discovered by a failing call. */
export interface EntityCapabilities {
  /** Many records by their keys in one call (the key lookup has a batch endpoint). */
  readonly batchLookup: boolean;
  readonly paging: PagingKind;
  /** Arguments of the list root that the source filters by. */
  readonly filters: readonly string[];
}

export interface CatalogEntity {
  readonly name: string;
  /** The source that serves it: the only one that can fetch its records. */
  readonly source: string;
  /** The canonical field that identifies a record within the source. */
  readonly key: string;
  readonly definition: Readonly<EntityDefinition>;
  readonly roots: RootFieldNames;
  /** Lookups by canonical field, in declaration order. */
  readonly lookups: ReadonlyMap<string, CatalogLookup>;
  /** The lookup by `key`, which every entity has. */
  readonly keyLookup: CatalogLookup;
  /** The loader of records by their key as given: root fields and type merging use it. */
  readonly keyLoader: CatalogLoader;
  readonly list: CatalogList | undefined;
  readonly capabilities: EntityCapabilities;
}

/** One end of a mapping: an entity's field, the source that owns the entity, and its lookup by that field when it has one. */
export interface MappingSide {
  readonly entity: string;
  readonly field: string;
  readonly source: string;
  readonly lookup: CatalogLookup | undefined;
}

export interface ForwardJoin {
  /** The join field on the "from" entity (`Customer.orders`). */
  readonly field: string;
  /** Loads the "to" records by the partners of each parent's `from` value. */
  readonly loader: CatalogLoader;
  /** Summary fields served from the same records (`Customer.orderSummary`). */
  readonly summaries: readonly string[];
  /** Arguments that cut the joined list (`first`). */
  readonly slicingArguments: readonly string[];
}

export interface InverseJoin {
  /** The join field on the "to" entity (`Order.customer`). */
  readonly field: string;
  /** Loads the one "from" record by the partner of each parent's `to` value. */
  readonly loader: CatalogLoader;
}

/**
 * The master-data entity that answers a service crosswalk, and its lookups each way. Its calls are
 * made by the request loaders of `fromLoader` and `toLoader`, the same objects for every mapping
 * over the entity: mappings that read one lookup share its calls, and the guard counts them by
 * the same ids.
 */
export interface ServiceLink {
  readonly entity: string;
  readonly source: string;
  /** By `via.from`: the partners of a from-side value. */
  readonly from: CatalogLookup;
  readonly fromLoader: CatalogLoader;
  /** By `via.to`: the way back; undefined when the mapping has no inverse and the entity no such lookup. */
  readonly to: CatalogLookup | undefined;
  readonly toLoader: CatalogLoader | undefined;
  /** The service record's fields holding each side's values. */
  readonly fromField: string;
  readonly toField: string;
  /** How long an answer of the service is reused: 0 within one request only (its request loaders), more across requests (the upstream-call cache). */
  readonly cacheTtlMs: number;
}

export interface CatalogMapping {
  readonly name: string;
  readonly kind: MappingDefinition['via']['kind'];
  readonly definition: Readonly<MappingDefinition>;
  /** How both sides are compared: a field key's normalization, `none` for crosswalks and services. */
  readonly normalize: KeyNormalization;
  readonly from: MappingSide;
  readonly to: MappingSide;
  readonly forward: ForwardJoin;
  /** Present when the mapping declares the way back. */
  readonly inverse: InverseJoin | undefined;
  /** Present for `via.kind: 'service'`. */
  readonly service: ServiceLink | undefined;
}
