import type { VirtualizationConfig } from '../config/definition';
import { MAX_PAGE, rootFieldNames } from '../federation/source-subschemas';

/**
 * One per-request loader, as the connectors key them (source, entity, lookup field, key
 * normalization): every value a request asks of it is fetched once, in batches of `batchSize`.
 */
export interface LoaderRef {
  id: string;
  source: string;
  /** Values per upstream call; 1 for a lookup without a batch endpoint. */
  batchSize: number;
  /** Records it finds are remembered by the request, so a join back to them costs no call. */
  unique: boolean;
}

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
  | { kind: 'join'; loader: LoaderRef; mapping: string; direction: 'forward' | 'inverse'; yieldsRecords: boolean; slicingArguments: readonly string[] };

/** Fetch roles by `Type.field`. */
export interface FetchPlan {
  roles: ReadonlyMap<string, FetchRole>;
  /** Per source, the most calls one request may make (`limits.maxCallsPerRequest`). */
  callCaps: ReadonlyMap<string, number>;
}

/**
 * Reads from the configuration which fields call which source, the way `federation/` builds them:
 * list and lookup root fields of each entity, and the two sides of each id mapping.
 */
export function buildFetchPlan(config: VirtualizationConfig, rootArgument: (field: string) => string | undefined): FetchPlan {
  const roles = new Map<string, FetchRole>();
  const callCaps = new Map<string, number>();
  const homes = new Map<string, string>();
  const loader = (source: string, entity: string, field: string, normalize: string): LoaderRef => {
    const lookup = config.sources[source]!.entities[entity]!.lookups[field];
    return { id: `${source}/${entity}/${field}/${normalize}`, source, batchSize: lookup?.batch?.maxSize ?? 1, unique: lookup?.unique ?? false };
  };

  for (const [sourceName, source] of Object.entries(config.sources)) {
    if (source.limits.maxCallsPerRequest !== undefined) callCaps.set(sourceName, source.limits.maxCallsPerRequest);
    for (const [entityName, entity] of Object.entries(source.entities)) {
      homes.set(entityName, sourceName);
      const roots = rootFieldNames(entityName, entity);
      const byKey = loader(sourceName, entityName, entity.key, 'none');
      for (const name of [roots.one, entity.lookups[entity.key]?.batch ? roots.many : false]) {
        const argument = name === false ? undefined : rootArgument(name);
        if (name !== false && argument !== undefined) roles.set(`Query.${name}`, { kind: 'lookup', loader: byKey, argument });
      }
      if (roots.list !== false && entity.list) roles.set(`Query.${roots.list}`, { kind: 'list', source: sourceName, maxPageSize: entity.list.paging.type === 'page' ? entity.list.paging.pageSize : entity.list.paging.maxPageSize, maxFirst: MAX_PAGE });
    }
  }

  for (const [name, mapping] of Object.entries(config.mappings)) {
    const normalize = mapping.via.kind === 'fieldKey' ? mapping.via.normalize : 'none';
    const forward = loader(homes.get(mapping.to.entity)!, mapping.to.entity, mapping.to.field, normalize);
    const slicingArguments = Object.entries(mapping.forward.args ?? {}).flatMap(([arg, def]) => ('slice' in def ? [arg] : []));
    const join = { kind: 'join', loader: forward, mapping: name, direction: 'forward', slicingArguments } as const;
    roles.set(`${mapping.from.entity}.${mapping.forward.field}`, { ...join, yieldsRecords: true });
    for (const summary of Object.keys(mapping.forward.summaries ?? {})) roles.set(`${mapping.from.entity}.${summary}`, { ...join, yieldsRecords: false });
    if (mapping.inverse) {
      const inverse = loader(homes.get(mapping.from.entity)!, mapping.from.entity, mapping.from.field, normalize);
      roles.set(`${mapping.to.entity}.${mapping.inverse.field}`, { kind: 'join', loader: inverse, mapping: name, direction: 'inverse', yieldsRecords: true, slicingArguments: [] });
    }
  }
  return { roles, callCaps };
}
