import type { Catalog } from '../catalog/catalog';
import type { CatalogMapping } from '../catalog/catalog-entries';
import { runDirectly } from '../connectors/delegation';
import { keyString } from '../connectors/key-string';
import { RequestLoaders, type LookupRunner } from '../connectors/request-loaders';
import type { SourceConnector } from '../connectors/source-connector';
import type { MappingStore } from '../mapping/mapping-store';
import { routeMappings } from '../mapping/routed-mapping-store';
import type { KeysSent } from '../telemetry/operation-trace';

type Direction = 'forward' | 'reverse';

/**
 * The values of each entity's field that one request has asked a master-data service for, so that
 * the audit counts each once however many crosswalks ask it. The values stay here, for the length
 * of the request; only names and counts are reported.
 */
class KeysAsked {
  private readonly seen = new Map<string, Set<string>>();

  constructor(private readonly report: (sent: KeysSent) => void) {}

  asked(mapping: CatalogMapping, direction: Direction, values: readonly string[]): void {
    const link = mapping.service!;
    const field = direction === 'forward' ? link.fromField : link.toField;
    const side = direction === 'forward' ? mapping.from : mapping.to;
    const sent: KeysSent = { source: link.source, lookup: `${link.entity}.${field}`, of: `${side.entity}.${side.field}`, mapping: mapping.name, count: 0 };
    const id = `${sent.source}/${sent.lookup}/${sent.of}`;
    let seen = this.seen.get(id);
    if (!seen) this.seen.set(id, (seen = new Set()));
    for (const value of values) {
      if (seen.has(value)) continue;
      seen.add(value);
      sent.count += 1;
    }
    this.report(sent);
  }
}

/**
 * A crosswalk served by a master-data service: the partners of a value are the `to` values (one or
 * a list) of the service entity's records found by `from`, and the way back is a lookup by `to`.
 * The service is asked through request loaders, by the catalog's loaders of its lookups: every
 * crosswalk over one entity shares them, so one request makes one call per batch of keys however
 * many crosswalks read it, and the calls are the request's upstream calls like any other (counted,
 * predicted by the guard by the same loader ids, observed, cached across requests for the entity's
 * `cacheTtlMs` by the upstream-call cache). Its pairs belong to the service: it takes none.
 */
class ServiceCrosswalk implements MappingStore {
  constructor(
    private readonly mapping: CatalogMapping,
    /** The request's loaders; outside a request, loaders of one question each. */
    private readonly loadersOf: () => RequestLoaders,
    private readonly keysAsked?: KeysAsked,
  ) {}

  forward(_mapping: string, values: readonly string[]): Promise<Map<string, string[]>> {
    return this.partners('forward', values);
  }

  reverse(_mapping: string, values: readonly string[]): Promise<Map<string, string[]>> {
    return this.partners('reverse', values);
  }

  private async partners(direction: Direction, values: readonly string[]): Promise<Map<string, string[]>> {
    const link = this.mapping.service!;
    const [loader, partnerField] = direction === 'forward' ? [link.fromLoader, link.toField] : [link.toLoader, link.fromField];
    const answer = new Map<string, string[]>();
    // No lookup by `to` (the mapping has no inverse): a value found from the other side has no partner here.
    if (!loader || values.length === 0) {
      for (const value of values) answer.set(value, []);
      return answer;
    }
    this.keysAsked?.asked(this.mapping, direction, values);
    const found = await this.loadersOf().loadEach(loader, values);
    values.forEach((value, index) => {
      const records = found[index]!;
      // The crosswalk answers for a whole batch of keys: a failure for one fails the batch.
      if (records instanceof Error) throw records;
      answer.set(value, [...new Set(records.flatMap((record) => listOf(record[partnerField])))]);
    });
    return answer;
  }

  private refuse(): never {
    const link = this.mapping.service!;
    throw new Error(`Mapping ${this.mapping.name} is served by ${link.entity} of source ${link.source}: its pairs are changed there, not imported`);
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

/** The mapping stores the engine asks: service crosswalks answer from their service, every other mapping from the tables. */
export interface Crosswalks {
  /**
   * Outside any request (the identities a webhook names): each question to a service goes through
   * loaders of its own, and the upstream-call cache.
   */
  readonly store: MappingStore;
  /**
   * One request's: services are asked through the request's loaders (shared by every crosswalk
   * over one entity, and with the rest of the request), and `sent` hears whose values each asks.
   */
  forRequest(loaders: RequestLoaders, sent?: (keys: KeysSent) => void): MappingStore;
}

export function serviceCrosswalks(catalog: Catalog, tables: MappingStore, connectors: ReadonlyMap<string, SourceConnector>, lookup: LookupRunner): Crosswalks {
  const services: CatalogMapping[] = [];
  for (const mapping of catalog.mappings.values()) {
    if (!mapping.service) continue;
    if (!connectors.has(mapping.service.source)) {
      throw new Error(`Mapping ${mapping.name}: no connector for ${mapping.service.source}, the source of the crosswalk entity ${mapping.service.entity}`);
    }
    services.push(mapping);
  }
  const routed = (loadersOf: () => RequestLoaders, keysAsked?: KeysAsked) =>
    routeMappings(new Map(services.map((mapping) => [mapping.name, new ServiceCrosswalk(mapping, loadersOf, keysAsked)])), tables);
  return {
    store: routed(() => new RequestLoaders(connectors, undefined, runDirectly, lookup)),
    forRequest: (loaders, sent) => (services.length === 0 ? tables : routed(() => loaders, sent ? new KeysAsked(sent) : undefined)),
  };
}
