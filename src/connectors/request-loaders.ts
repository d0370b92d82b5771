import DataLoader from 'dataloader';
import type { CallObserver } from './http-client';
import { keyString, type ListPage, type ListRequest, type SourceConnector } from './source-connector';
import type { CanonicalRecord } from './record-mapper';
import { normalizeKey, type KeyNormalization } from './transforms';

/**
 * The per-request face of the connectors: one DataLoader per (source, entity, lookup field), so
 * that every key asked for in the same tick of one request becomes one batched call (or, for a
 * source without batch endpoints, one call per distinct key through the source's bounded pool).
 *
 * Contract of each loader: for every key, the list of records whose field takes that value, in
 * the order the keys were given (an empty list when there is none). Records fetched through any
 * unique lookup or list are primed into the entity's other unique lookups, so that a join back to
 * an entity the request has already loaded costs no second call.
 */
export class RequestLoaders {
  private readonly loaders = new Map<string, DataLoader<string, CanonicalRecord[]>>();
  /** Which normalizations have a loader, per source/entity/field, so that priming reaches all of them. */
  private readonly normalizations = new Map<string, Set<KeyNormalization>>();

  constructor(
    private readonly connectors: ReadonlyMap<string, SourceConnector>,
    private readonly observe?: CallObserver,
  ) {}

  private connector(source: string): SourceConnector {
    const connector = this.connectors.get(source);
    if (!connector) throw new Error(`No connector for source ${source}`);
    return connector;
  }

  /** `normalize` says how asked keys were normalized, so that records are matched back the same way. */
  loader(source: string, entity: string, field: string, normalize: KeyNormalization = 'none'): DataLoader<string, CanonicalRecord[]> {
    const id = `${source}\u0000${entity}\u0000${field}\u0000${normalize}`;
    let loader = this.loaders.get(id);
    if (!loader) {
      const fieldId = `${source}\u0000${entity}\u0000${field}`;
      const known = this.normalizations.get(fieldId) ?? new Set<KeyNormalization>();
      known.add(normalize);
      this.normalizations.set(fieldId, known);
      const connector = this.connector(source);
      loader = new DataLoader<string, CanonicalRecord[]>(async (keys) => {
        const groups = await connector.lookup(entity, field, keys, this.observe, normalize);
        const results = keys.map((key) => groups.get(key) ?? []);
        this.prime(source, entity, results.flat(), field);
        return results;
      });
      this.loaders.set(id, loader);
    }
    return loader;
  }

  /** Records of `entity` whose `field` equals one of `keys`, in key order. */
  async loadMany(source: string, entity: string, field: string, keys: readonly string[], normalize?: KeyNormalization): Promise<CanonicalRecord[][]> {
    if (keys.length === 0) return [];
    const results = await this.loader(source, entity, field, normalize).loadMany(keys);
    return results.map((result) => {
      if (result instanceof Error) throw result;
      return result;
    });
  }

  async loadOne(source: string, entity: string, field: string, key: string, normalize?: KeyNormalization): Promise<CanonicalRecord | null> {
    const records = await this.loader(source, entity, field, normalize).load(key);
    return records[0] ?? null;
  }

  async list(source: string, entity: string, request: ListRequest): Promise<ListPage> {
    const page = await this.connector(source).list(entity, request, this.observe);
    this.prime(source, entity, page.records);
    return page;
  }

  /** Offers records to the entity's unique lookups (never to the one that just fetched them). */
  private prime(source: string, entity: string, records: readonly CanonicalRecord[], except?: string): void {
    if (records.length === 0) return;
    const definition = this.connector(source).definition.entities[entity];
    if (!definition) return;
    for (const [field, lookup] of Object.entries(definition.lookups)) {
      if (!lookup.unique || field === except) continue;
      const normalizations = this.normalizations.get(`${source}\u0000${entity}\u0000${field}`) ?? new Set(['none' as const]);
      for (const normalize of normalizations) {
        const loader = this.loader(source, entity, field, normalize);
        for (const record of records) {
          const key = keyString(record[field]);
          if (key !== undefined) loader.prime(normalizeKey(normalize, key), [record]);
        }
      }
    }
  }
}
