import { LRUCache } from 'lru-cache';
import type { Catalog } from '../catalog/catalog';
import type { ServiceLink } from '../catalog/catalog-entries';
import { isSourceError } from '../connectors/errors';
import { keyString } from '../connectors/key-string';
import type { SourceConnector } from '../connectors/source-connector';
import type { MappingStore } from '../mapping/mapping-store';
import { routeMappings } from '../mapping/routed-mapping-store';

/** Most answers one service crosswalk keeps, per direction. */
const CACHE_ENTRIES = 100_000;

/**
 * A crosswalk served by a master-data service: the partners of a value are the `to` values (one or
 * a list) of the service entity's records found by `from`, and the way back is a lookup by `to`.
 * Fetched in batches through the service's connector (so with its batch size, limits and errors),
 * and cached for `cacheTtlMs`. Its pairs belong to the service: it takes none.
 */
class ServiceCrosswalk implements MappingStore {
  private readonly cache: Record<'forward' | 'reverse', LRUCache<string, string[]> | undefined>;

  constructor(
    private readonly name: string,
    private readonly via: ServiceLink,
    private readonly connector: SourceConnector,
  ) {
    const cache = () => (via.cacheTtlMs > 0 ? new LRUCache<string, string[]>({ max: CACHE_ENTRIES, ttl: via.cacheTtlMs }) : undefined);
    this.cache = { forward: cache(), reverse: cache() };
  }

  forward(_mapping: string, values: readonly string[]): Promise<Map<string, string[]>> {
    return this.partners('forward', values);
  }

  reverse(_mapping: string, values: readonly string[]): Promise<Map<string, string[]>> {
    return this.partners('reverse', values);
  }

  private async partners(direction: 'forward' | 'reverse', values: readonly string[]): Promise<Map<string, string[]>> {
    const cache = this.cache[direction];
    const answer = new Map<string, string[]>();
    const missing: string[] = [];
    for (const value of values) {
      const cached = cache?.get(value);
      if (cached) answer.set(value, cached);
      else missing.push(value);
    }
    if (missing.length === 0) return answer;
    const [byField, partnerField] = direction === 'forward' ? [this.via.fromField, this.via.toField] : [this.via.toField, this.via.fromField];
    const found = await this.connector.lookup(this.via.entity, byField, missing);
    for (const value of missing) {
      const records = found.get(value) ?? [];
      // The crosswalk answers for a whole batch of keys: a failure for one fails the batch.
      if (isSourceError(records)) throw records;
      const partners = [...new Set(records.flatMap((record) => listOf(record[partnerField])))];
      cache?.set(value, partners);
      answer.set(value, partners);
    }
    return answer;
  }

  private refuse(): never {
    throw new Error(`Mapping ${this.name} is served by ${this.via.entity} of source ${this.connector.name}: its pairs are changed there, not imported`);
  }

  add(): Promise<number> {
    this.refuse();
  }

  load(): Promise<number> {
    this.refuse();
  }

  async remove(): Promise<void> {}

  async count(): Promise<number> {
    return 0;
  }

  async close(): Promise<void> {}
}

function listOf(value: unknown): string[] {
  return (Array.isArray(value) ? value : [value]).flatMap((item) => keyString(item) ?? []);
}

/** The mapping store the engine asks: service crosswalks answer from their service, every other mapping from `tables`. */
export function withServiceCrosswalks(catalog: Catalog, tables: MappingStore, connectors: ReadonlyMap<string, SourceConnector>): MappingStore {
  const services = new Map<string, MappingStore>();
  for (const mapping of catalog.mappings.values()) {
    if (!mapping.service) continue;
    const home = connectors.get(mapping.service.source);
    if (!home) throw new Error(`Mapping ${mapping.name}: no connector for ${mapping.service.source}, the source of the crosswalk entity ${mapping.service.entity}`);
    services.set(mapping.name, new ServiceCrosswalk(mapping.name, mapping.service, home));
  }
  return routeMappings(services, tables);
}
