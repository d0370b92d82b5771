import type { Catalog } from '../catalog/catalog';
import type { CatalogList, CatalogLookup } from '../catalog/catalog-entries';
import { compileCatalog } from '../catalog/compile-catalog';
import type { EntityDefinition, SourceDefinition } from '../config/definition';
import { CODES } from '../errors';
import type { TimerClock } from '../time/clock';
import { askableValues } from './askable-values';
import { forwardedHeaders, type CallerCredential } from './caller-credential';
import type { EgressGuard } from './egress-guard';
import { ForeignCursorError, SourceError } from './errors';
import { SourceHttpClient, type JsonResponse } from './http-client';
import { itemErrors, unaccountedFailure } from './item-errors';
import { keyString } from './key-string';
import { announcesMore, followLookupPages, NoRecords, pageLimitError } from './lookup-pages';
import { listByCursor } from './paging/cursor-paging';
import type { ListPage, ListRequest, PageSource } from './paging/list-page';
import { listByOffset } from './paging/offset-paging';
import { listByPageNumber } from './paging/page-number-paging';
import { listByUrl } from './paging/url-paging';
import { compileRecordMapper, fieldSource, pathReader, readPath, type CanonicalRecord, type RecordMapper, type Rejection } from './record-mapper';
import type { RejectionSink } from './record-rejections';
import { buildPathAndQuery, fillBody, propertyNames, textValues, type CallValues } from './request-template';
import { normalizeKey, reverseEnum, type KeyNormalization } from './transforms';
import { notFoundAnswer } from './not-found-answer';
import type { CallObserver } from './upstream-call';

/** A lookup of one value that the source answered 404: no record, not a failure. */
const NOT_FOUND = Symbol('not found');

/** Told about every raw record that did not fit the mapping; the record is left out of the answer. */
export type RejectionListener = (event: Rejection & { source: string; entity: string; key: unknown }) => void;

/**
 * What a lookup answers: for each asked value, its records (empty when there are none), or the
 * error the source reported for that value alone (a partial batch answer).
 */
export type LookupResult = Map<string, CanonicalRecord[] | SourceError>;

/** The records of one lookup answer; `sentAs` is the key a record answers when matched by position, `nulls` the keys it says have none. */
interface LookupAnswer {
  records: Array<{ record: CanonicalRecord; sentAs?: string }>;
  nulls: Set<string>;
}

interface CompiledEntity {
  name: string;
  definition: EntityDefinition;
  map: RecordMapper;
  /** Raw path of the key, to name a rejected record in reports. */
  keyFrom: string;
  /** Per lookup field: the catalog's entry (route, batch size, value type), and whether a value can name a record there at all. */
  lookups: Map<string, { entry: CatalogLookup; askable: (value: string) => boolean }>;
  /** The catalog's list entry (route, paging kind, page size, filters), when the entity has a list. */
  list: CatalogList | undefined;
  /** What `{properties}` stands for: the raw property names the mapping reads. */
  properties: string[];
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
 * Requests are filled from templates (request-template.ts); lists page by the source's kind of
 * paging (paging/).
 */
export class SourceConnector {
  private readonly entities = new Map<string, CompiledEntity>();
  readonly http: SourceHttpClient;

  constructor(
    readonly name: string,
    readonly definition: SourceDefinition,
    options: {
      env?: NodeJS.ProcessEnv;
      onReject?: RejectionListener;
      /**
       * The catalog of the generation this connector serves, compiled from the same definitions:
       * lookups are batched by its entries, the ones the guard predicts calls from. By default the
       * catalog of this source alone (a connector on its own, as in a dry run).
       */
      catalog?: Catalog;
      /** The time of the source's policies (backoff, breaker, rate limit, token lifetime); default the process's. */
      clock?: TimerClock;
      /** For a registered source: the egress policy its connections pass when they are made. */
      egress?: EgressGuard;
    } = {},
  ) {
    this.http = new SourceHttpClient(name, definition, options.env, options.clock, options.egress);
    this.onReject = options.onReject ?? (() => undefined);
    const catalog = options.catalog ?? compileCatalog({ sources: { [name]: definition }, mappings: {} });
    for (const entityName of catalog.source(name).entities) {
      const { definition: entity, lookups, list } = catalog.entity(entityName);
      this.entities.set(entityName, {
        name: entityName,
        definition: entity,
        map: compileRecordMapper(entity.fields, [entity.key]),
        keyFrom: fieldSource(entity.fields[entity.key]),
        lookups: new Map([...lookups].map(([field, entry]) => [field, { entry, askable: askableValues(entry) }])),
        list,
        properties: entity.properties ? propertyNames(entity.fields, entity.properties.under) : [],
      });
    }
    for (const { service } of catalog.mappings.values()) {
      if (service?.source === name) this.crosswalkTtlMs.set(service.entity, Math.min(service.cacheTtlMs, this.crosswalkTtlMs.get(service.entity) ?? Infinity));
    }
  }

  /**
   * Per entity of this source that answers service crosswalks: how long its answers are reused
   * across requests, the shortest `cacheTtlMs` of the crosswalks that read it (they share its calls).
   */
  readonly crosswalkTtlMs = new Map<string, number>();

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
      throw new SourceError(CODES.SOURCE_BAD_RESPONSE, this.name, route, `Source ${this.name} sent no records ${where} for ${route}; check the source definition's resultPath`);
    }
    return raw === null ? [] : Array.isArray(raw) ? raw : [raw];
  }

  /**
   * Maps one raw record; one that does not fit the mapping is left out and reported (to the log's
   * listener, and to the request's `rejected`), and the rest are served.
   */
  private mapRecord(entity: CompiledEntity, item: unknown, rejected?: (item: unknown, reason: string) => void): CanonicalRecord | undefined {
    const mapped = entity.map(item);
    if (mapped.ok) return mapped.record;
    this.onReject({ ...mapped.rejection, source: this.name, entity: entity.name, key: readPath(item, entity.keyFrom) });
    rejected?.(item, mapped.rejection.summary);
    return undefined;
  }

  private mapRecords(entity: CompiledEntity, body: unknown, resultPath: string | undefined, route: string, rejected?: (item: unknown, reason: string) => void): CanonicalRecord[] {
    const records: CanonicalRecord[] = [];
    for (const item of this.rawRecords(body, resultPath, route)) {
      const record = this.mapRecord(entity, item, rejected);
      if (record) records.push(record);
    }
    return records;
  }

  /**
   * The records of a lookup's answer. Matched by position, each carries the key sent in its place,
   * and a `null` there says that key has no record.
   */
  private lookupRecords(entity: CompiledEntity, lookup: CatalogLookup, body: unknown, sent: readonly string[], rejected?: (item: unknown, reason: string) => void): LookupAnswer {
    const route = lookup.route;
    if (lookup.endpoint.matchBy !== 'position') return { records: this.mapRecords(entity, body, lookup.endpoint.resultPath, route, rejected).map((record) => ({ record })), nulls: new Set() };
    const raw = lookup.endpoint.resultPath ? readPath(body, lookup.endpoint.resultPath) : body;
    if (!Array.isArray(raw)) {
      throw new SourceError(CODES.SOURCE_BAD_RESPONSE, this.name, route, `Source ${this.name} sent no array of records aligned with the keys for ${route} (matchBy: position); check the lookup's resultPath and matchBy`);
    }
    const answer: LookupAnswer = { records: [], nulls: new Set() };
    sent.forEach((key, index) => {
      const item: unknown = raw[index];
      if (item === null) answer.nulls.add(key);
      if (item === null || item === undefined) return;
      const record = this.mapRecord(entity, item, rejected);
      if (record) answer.records.push({ record, sentAs: key });
    });
    return answer;
  }

  /** The call's values for an endpoint's templates. */
  private callValues(entity: CompiledEntity, keys: readonly string[], lookup?: CatalogLookup): CallValues {
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
    /** Whom the calls are for: read only when the source forwards its caller (`forwardCaller`). */
    caller?: CallerCredential,
    /** Told of each record left out, with the asked value it answered when its raw field tells it. */
    onRejected?: RejectionSink,
  ): Promise<LookupResult> {
    const entity = this.entity(entityName);
    const compiled = entity.lookups.get(field);
    if (!compiled) throw new Error(`Source ${this.name} has no lookup of ${entityName} by ${field} (it has: ${[...entity.lookups.keys()].join(', ')})`);
    const lookup = compiled.entry;
    const route = lookup.route;
    const groups: LookupResult = new Map(values.map((value) => [value, []]));
    const itemFailures = new Map<string, SourceError>();
    const asked = values.filter(compiled.askable);
    const call = { source: this.name, entity: entityName, field, route };
    // The catalog entry's batch size: the one the guard divides the asked values by.
    const batches = chunk(asked, lookup.batchSize);
    await Promise.all(
      batches.map(async (batch) => {
        let response: JsonResponse | typeof NOT_FOUND;
        let answer: LookupAnswer;
        try {
          const rejected = onRejected && this.rejectedIn(entity, field, batch, normalize, onRejected);
          if (lookup.endpoint.paging) {
            // A paged answer is matched by key; its item errors are not read (no answer to report them on).
            answer = { records: (await this.pagedLookup(entity, lookup, batch, observe, caller, rejected)).map((record) => ({ record })), nulls: new Set() };
            response = NOT_FOUND;
          } else {
            response = await this.callLookup(entity, lookup, batch, route, observe, caller);
            if (response !== NOT_FOUND && announcesMore(response)) throw pageLimitError(this.name, route, batch, "its answer links a next page and the lookup declares no paging; declare the lookup's paging");
            if (response !== NOT_FOUND && response.maxAgeMs !== undefined) onMaxAge?.(batch, response.maxAgeMs);
            answer = response === NOT_FOUND ? { records: [], nulls: new Set() } : this.lookupRecords(entity, lookup, response.body, batch, rejected);
          }
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
        for (const { record, sentAs } of answer.records) {
          const found = record[field];
          // Matched by position: the record answers the key sent in its place.
          if (sentAs !== undefined) addTo(sentAs, record);
          else if (!Array.isArray(found)) addTo(normalized(found), record);
          // A record whose field is a list (a master-data link to several partners) is found by each value, once.
          else for (const key of new Set(found.map(normalized))) addTo(key, record);
        }
        if (response === NOT_FOUND) return;
        const report = itemErrors(call, lookup.endpoint, response, batch);
        for (const [key, failure] of report.failures) itemFailures.set(key, failure);
        if (!report.reported) return;
        // An answer that reported errors accounts for every key: found, not found, or failed; never a silent null.
        for (const key of batch) {
          if (report.notFound.has(key) || answer.nulls.has(key) || report.failures.has(key)) continue;
          const group = groups.get(key);
          if (Array.isArray(group) && group.length === 0) itemFailures.set(key, unaccountedFailure(call, key, response.status));
        }
      }),
    );
    for (const [key, failure] of itemFailures) {
      const group = groups.get(key);
      if (Array.isArray(group) && group.length === 0) groups.set(key, failure);
    }
    return groups;
  }

  /** Reports a record a lookup left out under the asked value of `batch` its raw field holds, if any. */
  private rejectedIn(entity: CompiledEntity, field: string, batch: readonly string[], normalize: KeyNormalization, sink: RejectionSink): (item: unknown, reason: string) => void {
    const asked = new Set(batch);
    const read = pathReader(fieldSource(entity.definition.fields[field]));
    const claim = (raw: unknown): string | undefined => {
      const key = keyString(raw);
      const value = key === undefined ? undefined : normalizeKey(normalize, key);
      return value !== undefined && asked.has(value) ? value : undefined;
    };
    return (item, reason) => {
      const raw = read(item);
      // A list-valued key (a master-data link to several partners): the first asked value it holds.
      const value = Array.isArray(raw) ? raw.map(claim).find((found) => found !== undefined) : claim(raw);
      sink({ source: this.name, entity: entity.name, reason }, 1, value);
    };
  }

  /** The caller's headers for a source that forwards its caller; none otherwise, whoever calls. */
  private callerHeaders(caller: CallerCredential | undefined, route: string): Record<string, string> | undefined {
    const forward = this.definition.forwardCaller;
    return forward ? forwardedHeaders(forward, caller, this.name, route) : undefined;
  }

  private async callLookup(entity: CompiledEntity, lookup: CatalogLookup, batch: string[], route: string, observe?: CallObserver, caller?: CallerCredential): Promise<JsonResponse | typeof NOT_FOUND> {
    const headers = this.callerHeaders(caller, route);
    const call = this.callValues(entity, batch, lookup);
    const text = textValues(call);
    const endpoint = lookup.endpoint;
    const body = endpoint.method === 'POST' ? fillBody(endpoint.body ?? {}, call, text) : undefined;
    const response = await this.http.getJson(buildPathAndQuery(endpoint.path, endpoint.query, text, call), route, batch.length, observe, body, headers, notFoundAnswer(endpoint.notFound));
    if (response.status !== 404) return response;
    if (!lookup.batch) return NOT_FOUND;
    throw new SourceError(CODES.SOURCE_REJECTED_REQUEST, this.name, route, `Source ${this.name} answered 404 to a batch lookup (${route}); check the lookup's path`, 404);
  }

  /** Every record of one paged lookup call, its pages followed up to the catalog's `pagesPerCall`. */
  private pagedLookup(entity: CompiledEntity, lookup: CatalogLookup, batch: string[], observe?: CallObserver, caller?: CallerCredential, rejected?: (item: unknown, reason: string) => void): Promise<CanonicalRecord[]> {
    const { endpoint, route } = lookup;
    const headers = this.callerHeaders(caller, route);
    const call = this.callValues(entity, batch, lookup);
    const text = textValues(call);
    const body = endpoint.method === 'POST' ? fillBody(endpoint.body ?? {}, call, text) : undefined;
    const path = buildPathAndQuery(endpoint.path, endpoint.query, text, call);
    // The paging's parameters replace the lookup's own of the same name (a declared `limit`).
    const withPaging = (paging: Record<string, string>) => {
      const url = new URL(path, 'http://paging.invalid');
      for (const [name, value] of Object.entries(paging)) url.searchParams.set(name, value);
      return url.pathname + url.search;
    };
    let first = true;
    const answered = async (answer: Promise<JsonResponse>): Promise<JsonResponse> => {
      const response = await answer;
      const wasFirst = first;
      first = false;
      if (response.status !== 404) return response;
      if (wasFirst && !lookup.batch) throw new NoRecords();
      throw new SourceError(CODES.SOURCE_REJECTED_REQUEST, this.name, route, `Source ${this.name} answered 404 to a page of a paged lookup (${route}); check the lookup's path and paging`, 404);
    };
    const pages: PageSource = {
      route,
      listUrl: new URL(this.http.basePath + path.replace(/[?#].*$/, ''), this.http.origin),
      firstUrl: (paging) => new URL(this.http.basePath + withPaging(paging), this.http.origin),
      fetchPage: (paging, size) => answered(this.http.getJson(withPaging(paging), route, size, observe, body, headers, notFoundAnswer(endpoint.notFound))),
      fetchUrl: (url, size) => answered(this.http.getJson(url.pathname.slice(this.http.basePath.length) + url.search, route, size, observe, body, headers)),
      rawRecords: (page) => this.rawRecords(page, endpoint.resultPath, route),
      mapRecord: (item) => this.mapRecord(entity, item, rejected),
    };
    return followLookupPages(this.name, pages, endpoint.paging!, lookup.pagesPerCall, batch);
  }

  /**
   * One page of a list, fetched in as many upstream pages as `first` needs. A cursor `after` that
   * this list never issued fails with `ForeignCursorError`.
   */
  async list(entityName: string, request: ListRequest, observe?: CallObserver, caller?: CallerCredential, onRejected?: RejectionSink): Promise<ListPage> {
    const entity = this.entity(entityName);
    const entry = entity.list;
    if (!entry) throw new Error(`Source ${this.name} has no list endpoint for ${entityName}`);
    const list = entry.endpoint;
    const route = entry.route;
    const headers = this.callerHeaders(caller, route);
    const filters: Record<string, string> = {};
    for (const [arg, value] of Object.entries(request.filters ?? {})) {
      const filter = entry.filters.get(arg);
      if (!filter) continue;
      const mapping = entity.definition.fields[filter.field];
      filters[filter.param] = reverseEnum(typeof mapping === 'object' ? mapping.transform : undefined, value);
    }
    const call = this.callValues(entity, []);
    const text = textValues(call);
    const after = request.after;
    const foreignCursor = (error: unknown, cursor: string): unknown =>
      error instanceof SourceError && error.code === CODES.SOURCE_REJECTED_REQUEST && error.status === 400 ? new ForeignCursorError(this.name, route, cursor, { cause: error }) : error;
    const rejected = onRejected && request.first > 0 ? (_item: unknown, reason: string) => onRejected({ source: this.name, entity: entityName, reason }, 1) : undefined;
    const path = buildPathAndQuery(list.path, list.query, text);
    const withPaging = (paging: Record<string, string>) => {
      const params = new URLSearchParams({ ...filters, ...paging });
      const separator = path.includes('?') ? '&' : '?';
      return `${path}${separator}${params.toString()}`;
    };
    const listUrl = new URL(this.http.basePath + list.path.replace(/[?#].*$/, '').replace(/\{[^}]*\}.*$/, ''), this.http.origin);
    const body = list.method === 'POST' ? fillBody(list.body ?? {}, call, text) : undefined;
    const pages: PageSource = {
      route,
      listUrl,
      firstUrl: (paging) => new URL(this.http.basePath + withPaging(paging), this.http.origin),
      fetchPage: (paging, pageSize) => {
        const answer = this.http.getJson(withPaging(paging), route, pageSize, observe, body, headers);
        // Only the page that carries the caller's own cursor can be refused for it: a 400 to a later
        // page (the source's cursor) or to a page-number call is the source's or the definition's.
        const cursorParam = list.paging.type === 'cursor' ? list.paging.cursorParam : undefined;
        if (!after || cursorParam === undefined || paging[cursorParam] !== after) return answer;
        return answer.catch((error: unknown) => Promise.reject(foreignCursor(error, after)));
      },
      // A next-page URL is the source's own (checked to be on its origin and under the list's path).
      fetchUrl: (url, pageSize) => this.http.getJson(url.pathname.slice(this.http.basePath.length) + url.search, route, pageSize, observe, body, headers),
      rawRecords: (body) => this.rawRecords(body, list.resultPath, route),
      // `first: 0` maps a record only to learn totalCount: none of the answer's records is left out.
      mapRecord: (item) => this.mapRecord(entity, item, rejected),
    };
    const paging = list.paging;
    switch (paging.type) {
      case 'page':
        return listByPageNumber(this.name, pages, paging, entry.pageSize, request);
      case 'offset':
        return listByOffset(this.name, pages, paging, entry.pageSize, request);
      case 'link':
      case 'nextUrl':
        return listByUrl(this.name, pages, paging, entry.pageSize, request);
      case 'cursor':
        return listByCursor(pages, paging, entry.pageSize, request);
    }
  }

  close(): Promise<void> {
    return this.http.close();
  }
}
