import { LRUCache } from 'lru-cache';
import type { VirtualizationConfig } from '../config/definition';
import { isSourceError } from '../connectors/errors';
import { keyString } from '../connectors/key-string';
import type { SourceConnector } from '../connectors/source-connector';
import type { MappingStore } from '../mapping/mapping-store';
import { routeMappings } from '../mapping/routed-mapping-store';

type ServiceVia = Extract<VirtualizationConfig['mappings'][string]['via'], { kind: 'service' }>;

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
    private readonly via: ServiceVia,
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
    const [byField, partnerField] = direction === 'forward' ? [this.via.from, this.via.to] : [this.via.to, this.via.from];
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
export function withServiceCrosswalks(config: VirtualizationConfig, tables: MappingStore, connectors: ReadonlyMap<string, SourceConnector>): MappingStore {
  const services = new Map<string, MappingStore>();
  for (const [name, mapping] of Object.entries(config.mappings)) {
    if (mapping.via.kind !== 'service') continue;
    const via = mapping.via;
    const home = [...connectors.values()].find((connector) => via.entity in connector.definition.entities);
    if (!home) throw new Error(`Mapping ${name}: no source serves the crosswalk entity ${via.entity}`);
    services.set(name, new ServiceCrosswalk(name, via, home));
  }
  return routeMappings(services, tables);
}
