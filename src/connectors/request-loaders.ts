import DataLoader from 'dataloader';
import type { CatalogList, CatalogLoader, LoaderId } from '../catalog/catalog-entries';
import type { CallerCredential } from './caller-credential';
import { runDirectly, type DelegationRunner } from './delegation';
import type { CanonicalRecord } from './record-mapper';
import type { RejectionSink } from './record-rejections';
import { keyValues } from './key-string';
import type { ListPage, ListRequest } from './paging/list-page';
import type { SourceConnector } from './source-connector';
import { normalizeKey, type KeyNormalization } from './transforms';
import type { CallObserver } from './upstream-call';

/**
 * How a loader batch reaches the source: `SourceConnector.lookup` directly, or through a cache
 * across requests that keeps its contract (every value maps to its records or to its call's error).
 */
export type LookupRunner = (
  connector: SourceConnector,
  entity: string,
  field: string,
  values: readonly string[],
  observe: CallObserver | undefined,
  normalize: KeyNormalization,
  caller: CallerCredential | undefined,
  /** Told of the records left out of the answer (a cache reports those kept with what it serves). */
  onRejected: RejectionSink | undefined,
) => Promise<Map<string, CanonicalRecord[] | Error>>;

const lookupDirectly: LookupRunner = (connector, entity, field, values, observe, normalize, caller, onRejected) =>
  connector.lookup(entity, field, values, observe, normalize, undefined, caller, onRejected);

interface LoaderEntry {
  loader: DataLoader<string, CanonicalRecord[]>;
  entityId: string;
  ref: CatalogLoader;
}

/**
 * The per-request face of the connectors: one DataLoader per catalog loader (source, entity,
 * lookup field, key normalization), keyed by the loader's catalog id, so that every key asked for
 * in the same tick of one request becomes one batched call (or, for a source without batch
 * endpoints, one call per distinct key through the source's bounded pool). The guard predicts
 * calls per the same id and batch size.
 *
 * Contract of each loader: for every key, the list of records whose field takes that value, in
 * the order the keys were given (an empty list when there is none). Every record the request
 * fetches (by lookup or list) is offered to the entity's unique lookups, including ones created
 * later, so that a join back to a record the request already holds costs no second call.
 *
 * Each batch and each list page runs as one delegation through `delegate`. A batch function runs
 * in whatever async context DataLoader scheduled it from (that of the first key's caller), so a
 * runner that needs the request's own context must capture it when it is created, not read it here.
 */
export class RequestLoaders {
  private readonly loaders = new Map<LoaderId, LoaderEntry>();
  /** Records of each source/entity this request has fetched. */
  private readonly seen = new Map<string, CanonicalRecord[]>();

  constructor(
    private readonly connectors: ReadonlyMap<string, SourceConnector>,
    private readonly observe?: CallObserver,
    private readonly delegate: DelegationRunner = runDirectly,
    private readonly lookup: LookupRunner = lookupDirectly,
    /** Whom this request's calls are for: sent only to sources that forward their caller. */
    private readonly caller?: CallerCredential,
    /** Told of every record a mapping left out of this request's answer. */
    private readonly rejected?: RejectionSink,
  ) {}

  private connector(source: string): SourceConnector {
    const connector = this.connectors.get(source);
    if (!connector) throw new Error(`No connector for source ${source}`);
    return connector;
  }

  /** The request's DataLoader of `ref`; its keys are normalized by `ref.normalize`, so records are matched back the same way. */
  loader(ref: CatalogLoader): DataLoader<string, CanonicalRecord[]> {
    const existing = this.loaders.get(ref.id);
    if (existing) return existing.loader;
    const { source, entity, field } = ref.lookup;
    const entityId = entityIdOf(source, entity);
    const connector = this.connector(source);
    const loader = new DataLoader<string, CanonicalRecord[]>(async (keys) => {
      const delegation = { source, entity, lookup: field, batchSize: keys.length };
      const groups = await this.delegate(delegation, () => this.lookup(connector, entity, field, keys, this.observe, ref.normalize, this.caller, this.rejected));
      const results = keys.map((key) => groups.get(key) ?? []);
      this.remember(entityId, results.flatMap((result) => (result instanceof Error ? [] : result)), ref.id);
      return results;
    });
    const entry: LoaderEntry = { loader, entityId, ref };
    this.loaders.set(ref.id, entry);
    if (ref.lookup.unique) prime(entry, this.seen.get(entityId) ?? []);
    return loader;
  }

  /** Records whose field equals one of `keys`, in key order; the first failure of any key rejects. */
  async loadMany(ref: CatalogLoader, keys: readonly string[]): Promise<CanonicalRecord[][]> {
    if (keys.length === 0) return [];
    const loader = this.loader(ref);
    // One key, the usual join (a customer's email): its records, or its error, without a list around it.
    if (keys.length === 1) return [await loader.load(keys[0]!)];
    const results = await loader.loadMany(keys);
    return results.map((result) => {
      if (result instanceof Error) throw result;
      return result;
    });
  }

  /** As `loadMany`, but each key on its own: a key whose call failed has its error in its place. */
  async loadEach(ref: CatalogLoader, keys: readonly string[]): Promise<Array<CanonicalRecord[] | Error>> {
    if (keys.length === 0) return [];
    return this.loader(ref).loadMany(keys);
  }

  async loadOne(ref: CatalogLoader, key: string): Promise<CanonicalRecord | null> {
    const records = await this.loader(ref).load(key);
    return records[0] ?? null;
  }

  /** One page of the entity's list. */
  async list(list: CatalogList, request: ListRequest): Promise<ListPage> {
    const { source, entity } = list;
    const connector = this.connector(source);
    const delegation = { source, entity, lookup: 'list', batchSize: request.first };
    const page = await this.delegate(delegation, () => connector.list(entity, request, this.observe, this.caller, this.rejected));
    this.remember(entityIdOf(source, entity), page.records);
    return page;
  }

  private remember(entityId: string, records: readonly CanonicalRecord[], fetchedBy?: LoaderId): void {
    if (records.length === 0) return;
    const seen = this.seen.get(entityId);
    if (seen) seen.push(...records);
    else this.seen.set(entityId, [...records]);
    for (const [id, entry] of this.loaders) {
      if (entry.ref.lookup.unique && entry.entityId === entityId && id !== fetchedBy) prime(entry, records);
    }
  }
}

function entityIdOf(source: string, entity: string): string {
  return `${source}/${entity}`;
}

function prime(entry: LoaderEntry, records: readonly CanonicalRecord[]): void {
  const { field } = entry.ref.lookup;
  // A field that holds a list names the record by each of its values (`shop: [8812, 9001]`).
  for (const record of records) for (const key of keyValues(record[field])) entry.loader.prime(normalizeKey(entry.ref.normalize, key), [record]);
}
