import type { Catalog } from '../catalog/catalog';
import type { CatalogLoader } from '../catalog/catalog-entries';

/**
 * One per-request loader, the catalog's own entry: the connectors key their request loaders by
 * its `id` and batch by its lookup's `batchSize`, so every value a request asks of it is predicted
 * to be fetched once, in batches of that size, exactly as it is fetched.
 */
export type LoaderRef = CatalogLoader;

/** What resolving a field of the served schema asks of the sources. */
export type FetchRole =
  /**
   * A page of an entity's list endpoint (`Query.customers`): calls by `first` and the source's page
   * size. A `first` above `maxFirst` is refused as bad input before any call, so it costs no more.
   */
  | { kind: 'list'; source: string; maxPageSize: number; maxFirst: number }
  /** Records by the values of an argument (`Query.customer(id:)`, `Query.customersByIds(ids:)`). */
  | { kind: 'lookup'; loader: LoaderRef; argument: string }
  /**
   * Records joined to each parent through an id mapping: forward (`Customer.orders`, and the
   * summaries served from the same records) or inverse (`Order.customer`). `slicingArguments` cut
   * a forward join's list (`first`).
   */
  | {
      kind: 'join';
      loader: LoaderRef;
      mapping: string;
      direction: 'forward' | 'inverse';
      yieldsRecords: boolean;
      slicingArguments: readonly string[];
      /**
       * The values each parent's key field holds (`from.field` forward, `to.field` inverse): 1 for
       * a value; for a list (`type: '[ID!]'`), each element is asked, so its assumed element count.
       */
      keysPerParent: number;
      /** The parent's key field holds a list. */
      listKey: boolean;
      /**
       * A service crosswalk's: the master-data lookup asked first for the partners of the parents'
       * `keyField` values (the catalog's loader, shared by every crosswalk over that entity), one
       * round trip before `loader`; each of its records gives `partnersPerKey` keys of the other
       * side (the assumed element count when the field it reads them from holds a list, else 1).
       */
      service?: { loader: LoaderRef; keyField: string; partnersPerKey: number };
    };

/** Fetch roles by `Type.field`. */
export interface FetchPlan {
  roles: ReadonlyMap<string, FetchRole>;
  /** Per source, the most calls one request may make (`limits.maxCallsPerRequest`). */
  callCaps: ReadonlyMap<string, number>;
}

/**
 * How many values a key field holds: undefined for one value, the assumed element count for a list
 * (`CostModel.fromSchema` reads it from the served schema and the field's `assumedSize`).
 */
export type KeyElements = (entity: string, field: string) => number | undefined;

/**
 * Which fields call which source, read from the catalog entries that federation builds the same
 * fields from: list and lookup root fields of each entity, and the two sides of each id mapping.
 */
export function buildFetchPlan(catalog: Catalog, rootArgument: (field: string) => string | undefined, elements: KeyElements = () => undefined): FetchPlan {
  const roles = new Map<string, FetchRole>();
  const callCaps = new Map<string, number>();

  for (const source of catalog.sources.values()) {
    if (source.maxCallsPerRequest !== undefined) callCaps.set(source.name, source.maxCallsPerRequest);
  }
  for (const entity of catalog.entities.values()) {
    const { roots, keyLoader, list } = entity;
    for (const name of [roots.one, roots.many]) {
      const argument = name === false ? undefined : rootArgument(name);
      if (name !== false && argument !== undefined) roles.set(`Query.${name}`, { kind: 'lookup', loader: keyLoader, argument });
    }
    if (roots.list !== false && list) roles.set(`Query.${roots.list}`, { kind: 'list', source: list.source, maxPageSize: list.pageSize, maxFirst: list.maxFirst });
  }

  for (const mapping of catalog.mappings.values()) {
    const { forward, inverse, service } = mapping;
    const keys = (entity: string, field: string) => {
      const count = elements(entity, field);
      return { keysPerParent: count ?? 1, listKey: count !== undefined };
    };
    const partners = (field: string) => (service ? (elements(service.entity, field) ?? 1) : 1);
    const forwardService = service ? { service: { loader: service.fromLoader, keyField: mapping.from.field, partnersPerKey: partners(service.toField) } } : {};
    const join = {
      kind: 'join',
      loader: forward.loader,
      mapping: mapping.name,
      direction: 'forward',
      slicingArguments: forward.slicingArguments,
      ...keys(mapping.from.entity, mapping.from.field),
      ...forwardService,
    } as const;
    roles.set(`${mapping.from.entity}.${forward.field}`, { ...join, yieldsRecords: true });
    for (const summary of forward.summaries) roles.set(`${mapping.from.entity}.${summary}`, { ...join, yieldsRecords: false });
    if (inverse) {
      const inverseService = service?.toLoader ? { service: { loader: service.toLoader, keyField: mapping.to.field, partnersPerKey: partners(service.fromField) } } : {};
      roles.set(`${mapping.to.entity}.${inverse.field}`, {
        kind: 'join',
        loader: inverse.loader,
        mapping: mapping.name,
        direction: 'inverse',
        yieldsRecords: true,
        slicingArguments: [],
        ...keys(mapping.to.entity, mapping.to.field),
        ...inverseService,
      });
    }
  }
  return { roles, callCaps };
}
