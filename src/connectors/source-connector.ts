import type { EntityDefinition, FieldMapping, LookupDefinition, PageNumberPaging, SourceDefinition } from '../config/definition';
import { SourceError } from './errors';
import { SourceHttpClient, type CallObserver, type JsonResponse } from './http-client';
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

/**
 * What a lookup answers: for each asked value, its records (empty when there are none), or the
 * error the source reported for that value alone (a partial batch answer).
 */
export type LookupResult = Map<string, CanonicalRecord[] | SourceError>;

interface CompiledEntity {
  name: string;
  definition: EntityDefinition;
  map: RecordMapper;
  /** Raw path of the key, to name a rejected record in reports. */
  keyFrom: string;
  /** Per lookup field: whether a value can name a record there at all. */
  askable: Map<string, (value: string) => boolean>;
  /** What `{properties}` stands for: the raw property names the mapping reads. */
  properties: string[];
}

/** The values of one call, for the placeholders of its templates. */
interface CallValues {
  keys: readonly string[];
  separator: string;
  valueType: 'string' | 'number';
  properties: readonly string[];
}

/** Placeholders as text, for paths and query strings. */
function textValues(call: CallValues): Record<string, string> {
  return { value: call.keys[0] ?? '', values: call.keys.join(call.separator), properties: call.properties.join(',') };
}

/**
 * Fills a JSON body template. `{values}`, `{value}` and `{properties}` standing alone become JSON
 * values (numbers for numeric ids), so that `{ "ids": "{values}" }` sends `{ "ids": [1, 2] }`.
 */
function fillBody(template: unknown, call: CallValues, text: Record<string, string>): unknown {
  const typed = (key: string) => (call.valueType === 'number' ? Number(key) : key);
  if (typeof template === 'string') {
    if (template === '{values}') return call.keys.map(typed);
    if (template === '{value}') return typed(call.keys[0] ?? '');
    if (template === '{properties}') return [...call.properties];
    return template.replace(/\{(\w+)\}/g, (_, name: string) => text[name] ?? '');
  }
  if (Array.isArray(template)) return template.map((item) => fillBody(item, call, text));
  if (template !== null && typeof template === 'object') {
    return Object.fromEntries(Object.entries(template).map(([key, item]) => [key, fillBody(item, call, text)]));
  }
  return template;
}

/** The raw property names a field mapping reads, below `under` when the record nests them. */
function propertyNames(fields: EntityDefinition['fields'], under: string | undefined): string[] {
  const names = new Set<string>();
  for (const mapping of Object.values(fields)) {
    const path = fieldSource(mapping);
    const rest = under === undefined ? path : path.startsWith(`${under}.`) ? path.slice(under.length + 1) : undefined;
    if (rest) names.add(rest.split('.')[0]!);
  }
  return [...names];
}

const NUMBER = /^-?[0-9]+(\.[0-9]+)?$/;

/** Page-number lists hand out offsets as cursors, opaque to clients. */
function offsetCursor(offset: number): string {
  return Buffer.from(`offset:${offset}`).toString('base64url');
}

function readOffsetCursor(cursor: string): number | undefined {
  const match = /^offset:([0-9]{1,15})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  return match ? Number(match[1]) : undefined;
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
  const numeric = lookup.valueType === 'number';
  return (value) =>
    value !== '' &&
    !(separator !== undefined && value.includes(separator)) &&
    (pattern === undefined || pattern.test(value)) &&
    (!numeric || NUMBER.test(value));
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
        properties: entity.properties ? propertyNames(entity.fields, entity.properties.under) : [],
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
   * The raw records at the endpoint's result path. A body without records where they should be is
   * the source's fault (SOURCE_BAD_RESPONSE).
   */
  private rawRecords(body: unknown, resultPath: string | undefined, route: string): unknown[] {
    const raw = resultPath ? readPath(body, resultPath) : body;
    if (raw === undefined || (raw !== null && typeof raw !== 'object')) {
      const where = resultPath ? `at "${resultPath}"` : 'as the body';
      throw new SourceError('SOURCE_BAD_RESPONSE', this.name, route, `Source ${this.name} sent no records ${where} for ${route}; check the source definition's resultPath`);
    }
    return raw === null ? [] : Array.isArray(raw) ? raw : [raw];
  }

  /** Maps one raw record; one that does not fit the mapping is left out and reported, and the rest are served. */
  private mapRecord(entity: CompiledEntity, item: unknown): CanonicalRecord | undefined {
    const mapped = entity.map(item);
    if (mapped.ok) return mapped.record;
    this.onReject({ ...mapped.rejection, source: this.name, entity: entity.name, key: readPath(item, entity.keyFrom) });
    return undefined;
  }

  private mapRecords(entity: CompiledEntity, body: unknown, resultPath: string | undefined, route: string): CanonicalRecord[] {
    const records: CanonicalRecord[] = [];
    for (const item of this.rawRecords(body, resultPath, route)) {
      const record = this.mapRecord(entity, item);
      if (record) records.push(record);
    }
    return records;
  }

  /** The call's values for an endpoint's templates. */
  private callValues(entity: CompiledEntity, keys: readonly string[], lookup?: LookupDefinition): CallValues {
    return { keys, separator: lookup?.batch?.separator ?? ',', valueType: lookup?.valueType ?? 'string', properties: entity.properties };
  }

  /**
   * Fetches records of `entityName` whose `field` takes one of `values`, batching as the source
   * allows, and groups them back by value (never by position: sources answer in their own order).
   * A value with no record maps to an empty list. A call that fails fails only the values it
   * carried, which map to its error: one value per call for a source without batch endpoints. A
   * value the source reported an error for inside a successful answer (a partial batch answer),
   * and found no record for, maps to that error alone.
   */
  async lookup(
    entityName: string,
    field: string,
    values: readonly string[],
    observe?: CallObserver,
    normalize: KeyNormalization = 'none',
    /** Told of each call whose answer carried `Cache-Control` freshness, with the values it carried. */
    onMaxAge?: (values: readonly string[], maxAgeMs: number) => void,
  ): Promise<LookupResult> {
    const entity = this.entity(entityName);
    const lookup = entity.definition.lookups[field];
    if (!lookup) throw new Error(`Source ${this.name} has no lookup of ${entityName} by ${field}`);
    const route = `${lookup.method} ${lookup.path}`;
    const groups: LookupResult = new Map(values.map((value) => [value, []]));
    const itemFailures = new Map<string, SourceError>();
    const asked = values.filter(entity.askable.get(field)!);
    const batches = lookup.batch ? chunk(asked, lookup.batch.maxSize) : asked.map((value) => [value]);
    await Promise.all(
      batches.map(async (batch) => {
        let response: JsonResponse | typeof NOT_FOUND;
        let records: CanonicalRecord[];
        try {
          response = await this.callLookup(entity, lookup, batch, route, observe);
          if (response !== NOT_FOUND && response.maxAgeMs !== undefined) onMaxAge?.(batch, response.maxAgeMs);
          records = response === NOT_FOUND ? [] : this.mapRecords(entity, response.body, lookup.resultPath, route);
        } catch (error) {
          if (!(error instanceof SourceError)) throw error;
          for (const value of batch) groups.set(value, error);
          return;
        }
        const addTo = (key: string | undefined, record: CanonicalRecord) => {
          const group = key === undefined ? undefined : groups.get(key);
          // A record for a value nobody asked for (a source that ignores part of a filter) is dropped.
          if (Array.isArray(group) && !(lookup.unique && group.length > 0)) group.push(record);
        };
        const normalized = (raw: unknown) => {
          const value = keyString(raw);
          return value === undefined ? undefined : normalizeKey(normalize, value);
        };
        for (const record of records) {
          const found = record[field];
          if (!Array.isArray(found)) addTo(normalized(found), record);
          // A record whose field is a list (a master-data link to several partners) is found by each value, once.
          else for (const key of new Set(found.map(normalized))) addTo(key, record);
        }
        if (response === NOT_FOUND) return;
        for (const [key, failure] of this.itemErrors(entityName, field, lookup, response, route)) itemFailures.set(key, failure);
      }),
    );
    for (const [key, failure] of itemFailures) {
      const group = groups.get(key);
      if (Array.isArray(group) && group.length === 0) groups.set(key, failure);
    }
    return groups;
  }

  private async callLookup(entity: CompiledEntity, lookup: LookupDefinition, batch: string[], route: string, observe?: CallObserver): Promise<JsonResponse | typeof NOT_FOUND> {
    const call = this.callValues(entity, batch, lookup);
    const text = textValues(call);
    const body = lookup.method === 'POST' ? fillBody(lookup.body ?? {}, call, text) : undefined;
    const response = await this.http.getJson(buildPathAndQuery(lookup.path, lookup.query, text), route, batch.length, observe, body);
    if (response.status !== 404) return response;
    if (!lookup.batch) return NOT_FOUND;
    throw new SourceError('SOURCE_REJECTED_REQUEST', this.name, route, `Source ${this.name} answered 404 to a batch lookup (${route}); check the lookup's path`, 404);
  }

  /**
   * The per-value errors of a partial answer, by the value they concern. Codes declared as "not
   * found" are no error: those values simply find nothing.
   */
  private itemErrors(entity: string, field: string, lookup: LookupDefinition, response: JsonResponse, route: string): Map<string, SourceError> {
    const failures = new Map<string, SourceError>();
    const spec = lookup.itemErrors;
    const reported = spec ? readPath(response.body, spec.path) : undefined;
    if (!spec || !Array.isArray(reported)) return failures;
    for (const item of reported) {
      const code = spec.codePath ? keyString(readPath(item, spec.codePath)) : undefined;
      if (code !== undefined && spec.notFoundCodes?.includes(code)) continue;
      const detail = spec.messagePath ? keyString(readPath(item, spec.messagePath))?.slice(0, 200) : undefined;
      const concerned = readPath(item, spec.keyPath);
      for (const value of Array.isArray(concerned) ? concerned : [concerned]) {
        const key = keyString(value);
        if (key === undefined) continue;
        const reason = [code, detail].filter(Boolean).join(': ') || 'no reason given';
        failures.set(key, new SourceError('SOURCE_PARTIAL_FAILURE', this.name, route, `Source ${this.name} reported an error for ${entity} ${field} "${key}" (${reason}); the other values of the call were served`, response.status));
      }
    }
    return failures;
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
    const call = this.callValues(entity, []);
    const text = textValues(call);
    const fetchPage = (paging: Record<string, string>, pageSize: number) => {
      const params = new URLSearchParams({ ...filters, ...paging });
      const path = buildPathAndQuery(list.path, list.query, text);
      const separator = path.includes('?') ? '&' : '?';
      const body = list.method === 'POST' ? fillBody(list.body ?? {}, call, text) : undefined;
      return this.http.getJson(`${path}${separator}${params.toString()}`, route, pageSize, observe, body);
    };
    const paging = list.paging;
    if (paging.type === 'page') return this.listByPageNumber(entity, list.resultPath, paging, request, fetchPage, route);

    const records: CanonicalRecord[] = [];
    let cursor = request.after ?? null;
    let totalCount: number | null = null;
    let remaining = request.first;
    do {
      // Even `first: 0` asks for one record: the call still answers totalCount.
      const pageSize = Math.max(1, Math.min(remaining, paging.maxPageSize));
      const response = await fetchPage({ [paging.limitParam]: String(pageSize), ...(cursor ? { [paging.cursorParam]: cursor } : {}) }, pageSize);
      const body = response.body;
      const page = this.mapRecords(entity, body, list.resultPath, route);
      records.push(...page);
      const next = readPath(body, paging.nextCursorPath);
      cursor = typeof next === 'string' && next !== '' ? next : null;
      if (paging.totalPath) {
        const total = readPath(body, paging.totalPath);
        totalCount = typeof total === 'number' ? total : null;
      }
      remaining -= pageSize;
    } while (remaining > 0 && cursor);
    // `first: 0` fetched one record only to learn totalCount: the page is empty and ends where it
    // began, so the next page must start at `after` again, not behind the record it fetched.
    if (request.first <= 0) return { records: [], nextCursor: request.after ?? null, hasNextPage: records.length > 0, totalCount };
    return { records: records.slice(0, request.first), nextCursor: cursor, hasNextPage: cursor !== null, totalCount };
  }

  /**
   * Page-number paging. The cursor is an offset into the source's order; it is turned into a page
   * number and a number of records to skip on that page. Offsets count raw records, so that a
   * record rejected by the mapping does not shift the pages that follow.
   */
  private async listByPageNumber(
    entity: CompiledEntity,
    resultPath: string | undefined,
    paging: PageNumberPaging,
    request: ListRequest,
    fetchPage: (params: Record<string, string>, pageSize: number) => Promise<JsonResponse>,
    route: string,
  ): Promise<ListPage> {
    const start = request.after ? readOffsetCursor(request.after) : 0;
    if (start === undefined) {
      // Reported like a source's 400 to a foreign cursor, which the engine turns into BAD_USER_INPUT.
      throw new SourceError('SOURCE_REJECTED_REQUEST', this.name, route, `"${request.after}" is not a cursor of ${route}`, 400);
    }
    const wanted = Math.max(1, request.first);
    const records: CanonicalRecord[] = [];
    let offset = start;
    let totalCount: number | null = null;
    let more = true;
    while (records.length < wanted && more) {
      const page = Math.floor(offset / paging.pageSize);
      const response = await fetchPage({ [paging.pageParam]: String(page + paging.firstPage), [paging.sizeParam]: String(paging.pageSize) }, paging.pageSize);
      const items = this.rawRecords(response.body, resultPath, route);
      if (paging.totalPath) {
        const total = readPath(response.body, paging.totalPath);
        totalCount = typeof total === 'number' ? total : null;
      }
      const onPage = items.slice(offset - page * paging.pageSize);
      for (const item of onPage) {
        if (records.length === wanted) break;
        offset += 1;
        const record = this.mapRecord(entity, item);
        if (record) records.push(record);
      }
      const pageEnd = page * paging.pageSize + items.length;
      const sourceHasMore = items.length === paging.pageSize && (totalCount === null || pageEnd < totalCount);
      more = offset < pageEnd || sourceHasMore;
    }
    if (request.first <= 0) return { records: [], nextCursor: request.after ?? null, hasNextPage: records.length > 0, totalCount };
    return { records, nextCursor: more ? offsetCursor(offset) : null, hasNextPage: more, totalCount };
  }

  close(): Promise<void> {
    return this.http.close();
  }
}

