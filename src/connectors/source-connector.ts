import type { EntityDefinition, FieldMapping, LookupDefinition, SourceDefinition } from '../config/definition';
import { SourceError } from './errors';
import { SourceHttpClient, type CallObserver } from './http-client';
import { compileRecordMapper, readPath, type CanonicalRecord, type RecordMapper, type Rejection } from './record-mapper';
import { normalizeKey, reverseEnum, type KeyNormalization } from './transforms';

/** A lookup of one value that the source answered 404: no record, not a failure. */
const NOT_FOUND = Symbol('not found');

/** Told about every raw record that did not fit the mapping; the record is left out of the answer. */
export type RejectionListener = (event: Rejection & { source: string; entity: string; key: unknown }) => void;

export interface ListPage {
  records: CanonicalRecord[];
  /** Where the next page starts (pass it as `after`); null to start from the beginning. */
  nextCursor: string | null;
  hasNextPage: boolean;
  totalCount: number | null;
}

export interface ListRequest {
  first: number;
  after?: string | null;
  filters?: Record<string, string>;
}

interface CompiledEntity {
  name: string;
  definition: EntityDefinition;
  map: RecordMapper;
  /** Raw path of the key, to name a rejected record in reports. */
  keyFrom: string;
  /** Per lookup field: whether a value can name a record there at all. */
  askable: Map<string, (value: string) => boolean>;
}

function fillTemplate(template: string, values: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(values[name] ?? ''));
}

function buildPathAndQuery(path: string, query: Record<string, string> | undefined, values: Record<string, string>): string {
  const filledPath = fillTemplate(path, values);
  const params = new URLSearchParams();
  for (const [name, template] of Object.entries(query ?? {})) {
    const filled = template.replace(/\{(\w+)\}/g, (_, key: string) => values[key] ?? '');
    if (filled !== '') params.set(name, filled);
  }
  const search = params.toString();
  return search ? `${filledPath}?${search}` : filledPath;
}

/** Keys are compared as strings: one system's numeric ref and another's string id meet in the middle. */
export function keyString(value: unknown): string | undefined {
  return value === null || value === undefined ? undefined : String(value);
}

function fieldSource(mapping: FieldMapping | undefined): string {
  if (mapping === undefined) return '';
  return typeof mapping === 'string' ? mapping : mapping.from;
}

/**
 * Values a lookup can never find are answered as not found without a call: an empty value, one
 * holding the batch separator (the source would read it as several), one that breaks the lookup's
 * declared pattern. Sources answer such values with a 400, and in a batch that fails every other
 * value of the batch too.
 */
function askableValues(lookup: LookupDefinition): (value: string) => boolean {
  const pattern = lookup.pattern === undefined ? undefined : new RegExp(lookup.pattern);
  const separator = lookup.batch?.separator;
  return (value) => value !== '' && !(separator !== undefined && value.includes(separator)) && (pattern === undefined || pattern.test(value));
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}

/**
 * Everything the engine needs from one source, expressed in canonical terms: fetch records of an
 * entity by the values of a field, or page through a list. The source's URLs, envelopes, batch
 * sizes and raw field names stay in here; callers see canonical records keyed by canonical values.
 */
export class SourceConnector {
  private readonly entities = new Map<string, CompiledEntity>();
  readonly http: SourceHttpClient;

  constructor(
    readonly name: string,
    readonly definition: SourceDefinition,
    options: { env?: NodeJS.ProcessEnv; onReject?: RejectionListener } = {},
  ) {
    this.http = new SourceHttpClient(name, definition, options.env);
    this.onReject = options.onReject ?? (() => undefined);
    for (const [entityName, entity] of Object.entries(definition.entities)) {
      this.entities.set(entityName, {
        name: entityName,
        definition: entity,
        map: compileRecordMapper(entity.fields, [entity.key]),
        keyFrom: fieldSource(entity.fields[entity.key]),
        askable: new Map(Object.entries(entity.lookups).map(([field, lookup]) => [field, askableValues(lookup)])),
      });
    }
  }

  private readonly onReject: RejectionListener;

  private entity(name: string): CompiledEntity {
    const entity = this.entities.get(name);
    if (!entity) throw new Error(`Source ${this.name} serves no entity ${name}`);
    return entity;
  }


  /**
   * Maps the records found at the endpoint's result path. A body without records where they should
   * be is the source's fault (SOURCE_BAD_RESPONSE); a single record that does not fit the mapping
   * is left out and reported, and the rest are served.
   */
  private mapRecords(entity: CompiledEntity, body: unknown, resultPath: string | undefined, route: string): CanonicalRecord[] {
    const raw = resultPath ? readPath(body, resultPath) : body;
    if (raw === undefined || (raw !== null && typeof raw !== 'object')) {
      const where = resultPath ? `at "${resultPath}"` : 'as the body';
      throw new SourceError('SOURCE_BAD_RESPONSE', this.name, route, `Source ${this.name} sent no records ${where} for ${route}; check the source definition's resultPath`);
    }
    const items = raw === null ? [] : Array.isArray(raw) ? raw : [raw];
    const records: CanonicalRecord[] = [];
    for (const item of items) {
      const mapped = entity.map(item);
      if (mapped.ok) records.push(mapped.record);
      else this.onReject({ ...mapped.rejection, source: this.name, entity: entity.name, key: readPath(item, entity.keyFrom) });
    }
    return records;
  }

  /**
   * Fetches records of `entityName` whose `field` takes one of `values`, batching as the source
   * allows, and groups them back by value (never by position: sources answer in their own order).
   * A value with no record maps to an empty list. A call that fails fails only the values it
   * carried, which map to its error: one value per call for a source without batch endpoints.
   */
  async lookup(
    entityName: string,
    field: string,
    values: readonly string[],
    observe?: CallObserver,
    normalize: KeyNormalization = 'none',
    /** Told of each call whose answer carried `Cache-Control` freshness, with the values it carried. */
    onMaxAge?: (values: readonly string[], maxAgeMs: number) => void,
  ): Promise<Map<string, CanonicalRecord[] | SourceError>> {
    const entity = this.entity(entityName);
    const lookup = entity.definition.lookups[field];
    if (!lookup) throw new Error(`Source ${this.name} has no lookup of ${entityName} by ${field}`);
    const route = `${lookup.method} ${lookup.path}`;
    const groups = new Map<string, CanonicalRecord[] | SourceError>(values.map((value) => [value, []]));
    const asked = values.filter(entity.askable.get(field)!);
    const batches = lookup.batch ? chunk(asked, lookup.batch.maxSize) : asked.map((value) => [value]);
    await Promise.all(
      batches.map(async (batch) => {
        let records: CanonicalRecord[];
        try {
          const { body, maxAgeMs } = await this.callLookup(lookup, batch, route, observe);
          if (maxAgeMs !== undefined) onMaxAge?.(batch, maxAgeMs);
          records = body === NOT_FOUND ? [] : this.mapRecords(entity, body, lookup.resultPath, route);
        } catch (error) {
          if (!(error instanceof SourceError)) throw error;
          for (const value of batch) groups.set(value, error);
          return;
        }
        for (const record of records) {
          const raw = keyString(record[field]);
          const key = raw === undefined ? undefined : normalizeKey(normalize, raw);
          const group = key === undefined ? undefined : groups.get(key);
          // A record for a value nobody asked for (a source that ignores part of a filter) is dropped.
          if (Array.isArray(group) && !(lookup.unique && group.length > 0)) group.push(record);
        }
      }),
    );
    return groups;
  }

  private async callLookup(lookup: LookupDefinition, batch: string[], route: string, observe?: CallObserver): Promise<{ body: unknown; maxAgeMs?: number }> {
    const values = { value: batch[0] ?? '', values: batch.join(lookup.batch?.separator ?? ',') };
    const response = await this.http.getJson(buildPathAndQuery(lookup.path, lookup.query, values), route, batch.length, observe);
    if (response.status !== 404) return { body: response.body, maxAgeMs: response.maxAgeMs };
    if (!lookup.batch) return { body: NOT_FOUND };
    throw new SourceError('SOURCE_REJECTED_REQUEST', this.name, route, `Source ${this.name} answered 404 to a batch lookup (${route}); check the lookup's path`, 404);
  }

  /** One page of a list, fetched in as many upstream pages as `first` needs. */
  async list(entityName: string, request: ListRequest, observe?: CallObserver): Promise<ListPage> {
    const entity = this.entity(entityName);
    const list = entity.definition.list;
    if (!list) throw new Error(`Source ${this.name} has no list endpoint for ${entityName}`);
    const route = `${list.method} ${list.path}`;
    const filters: Record<string, string> = {};
    for (const [arg, value] of Object.entries(request.filters ?? {})) {
      const filter = list.filters?.[arg];
      if (!filter) continue;
      const mapping = entity.definition.fields[filter.field];
      filters[filter.param] = reverseEnum(typeof mapping === 'object' ? mapping.transform : undefined, value);
    }
    const records: CanonicalRecord[] = [];
    let cursor = request.after ?? null;
    let totalCount: number | null = null;
    let remaining = request.first;
    do {
      // Even `first: 0` asks for one record: the call still answers totalCount.
      const pageSize = Math.max(1, Math.min(remaining, list.paging.maxPageSize));
      const params = new URLSearchParams({ ...list.query, ...filters });
      params.set(list.paging.limitParam, String(pageSize));
      if (cursor) params.set(list.paging.cursorParam, cursor);
      const response = await this.http.getJson(`${list.path}?${params.toString()}`, route, pageSize, observe);
      const body = response.body;
      const page = this.mapRecords(entity, body, list.resultPath, route);
      records.push(...page);
      const next = readPath(body, list.paging.nextCursorPath);
      cursor = typeof next === 'string' && next !== '' ? next : null;
      if (list.paging.totalPath) {
        const total = readPath(body, list.paging.totalPath);
        totalCount = typeof total === 'number' ? total : null;
      }
      remaining -= pageSize;
    } while (remaining > 0 && cursor);
    // `first: 0` fetched one record only to learn totalCount: the page is empty and ends where it
    // began, so the next page must start at `after` again, not behind the record it fetched.
    if (request.first <= 0) return { records: [], nextCursor: request.after ?? null, hasNextPage: records.length > 0, totalCount };
    return { records: records.slice(0, request.first), nextCursor: cursor, hasNextPage: cursor !== null, totalCount };
  }

  close(): Promise<void> {
    return this.http.close();
  }
}

