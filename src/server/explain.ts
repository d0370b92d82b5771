import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import type { GraphQLSchema } from 'graphql';
import { RESPONSE_AGE_EXTENSION } from '../cache/response-cache';
import type { UpstreamCall } from '../connectors/upstream-call';
import type { Catalog } from '../catalog/catalog';
import { serviceJoinsOf, SourceMap, type FieldProvenance } from '../federation/provenance';
import type { FederationContext } from '../federation/request-context';

/** Send `x-virtualize-explain: 1` with a request to have its answer explain its fan-out. */
export const EXPLAIN_HEADER = 'x-virtualize-explain';

/** One upstream call, as `extensions.fanout` shows it. Times are milliseconds from the start of execution. */
export interface FanoutEntry {
  source: string;
  /** Route template relative to the source's base path: `GET /orders`. */
  route: string;
  batchSize: number;
  /** HTTP status, or `error` when no response came (refused, timed out). */
  status: number | 'error';
  /** Whether the upstream-call cache answered instead of the source. */
  cacheHit: boolean;
  /** With a cache hit: age of the oldest value served, in milliseconds; null otherwise. */
  ageMs: number | null;
  /** Tries it took: 1 unless a retry policy tried again. */
  attempts: number;
  startMs: number;
  durationMs: number;
}

const round = (ms: number) => Math.round(ms * 10) / 10;


function fanoutOf(calls: readonly UpstreamCall[], startedAt: number): FanoutEntry[] {
  return [...calls]
    .sort((a, b) => a.startedAt - b.startedAt)
    .map((call) => ({
      source: call.source,
      route: call.route,
      batchSize: call.batchSize,
      status: call.status,
      cacheHit: call.cacheHit === true,
      ageMs: call.cacheHit ? Math.round(call.ageMs ?? 0) : null,
      attempts: call.attempts,
      startMs: round(call.startedAt - startedAt),
      durationMs: round(call.durationMs),
    }));
}

/** The age of an answer served whole from the hot-response tier, or undefined when it was computed. */
function responseAgeOf(extensions: Record<string, unknown> | undefined): number | undefined {
  const served = extensions?.[RESPONSE_AGE_EXTENSION] as { hit?: boolean; ageMs?: number } | undefined;
  return served?.hit ? Math.round(served.ageMs ?? 0) : undefined;
}

/**
 * An answer served whole from the hot-response tier made no upstream call: its fan-out is that one
 * lookup, with the answer's age, and every field it shows is as old as the answer.
 */
function explainResponseHit(ageMs: number, provenance: FieldProvenance[]): { fanout: FanoutEntry[]; provenance: FieldProvenance[] } {
  return {
    fanout: [{ source: 'virtualize', route: 'response cache', batchSize: 1, status: 200, cacheHit: true, ageMs, attempts: 0, startMs: 0, durationMs: 0 }],
    provenance: provenance.map((entry) => ({ ...entry, cachedAgeMs: ageMs })),
  };
}

/**
 * A source's fields were served from the cache when every call to that source in the request was
 * a cache hit: their age is that of the oldest value served. Otherwise (or with no call) null.
 */
function withCacheAges(provenance: FieldProvenance[], calls: readonly UpstreamCall[]): FieldProvenance[] {
  const ages = new Map<string, number | null>();
  for (const call of calls) {
    const age = call.cacheHit ? Math.round(call.ageMs ?? 0) : null;
    const known = ages.get(call.source);
    ages.set(call.source, known === undefined ? age : known === null || age === null ? null : Math.max(known, age));
  }
  return provenance.map((entry) => ({ ...entry, cachedAgeMs: ages.get(entry.source) ?? null }));
}

/**
 * Explain for analysts: an operation sent with `x-virtualize-explain: 1` answers with
 * `extensions.fanout`, every upstream call it made (source, route, batch size, cache hit,
 * attempts, start and duration; calls to master-data services included), and
 * `extensions.provenance`, which source served each top-level field and each join, and for a join
 * through a master-data service that service (`FieldProvenance.keysFrom`). Without the header,
 * nothing changes.
 */
export function useExplain(options: { catalogOf?: (context: unknown) => Catalog | undefined } = {}): Plugin {
  // Per schema: a hot-reloaded gateway executes each request on the schema it started with (and its catalog).
  const maps = new WeakMap<GraphQLSchema, SourceMap>();
  const sourcesOf = (schema: GraphQLSchema, context: unknown) => {
    let map = maps.get(schema);
    if (!map) {
      const catalog = options.catalogOf?.(context);
      map = SourceMap.of(schema, catalog ? serviceJoinsOf(catalog) : undefined);
      maps.set(schema, map);
    }
    return map;
  };
  return {
    onExecute({ args }) {
      const context = args.contextValue as Partial<FederationContext> & { request?: Request };
      const asked = context.request?.headers.get(EXPLAIN_HEADER)?.trim().toLowerCase();
      const calls = context.upstreamCalls;
      if ((asked !== '1' && asked !== 'true') || !calls) return;
      const startedAt = performance.now();
      return {
        onExecuteDone({ result, setResult }) {
          if (isAsyncIterable(result)) return;
          const provenance = sourcesOf(args.schema, args.contextValue).provenance(args.document, args.operationName);
          const responseAge = responseAgeOf(result.extensions);
          const explained =
            responseAge === undefined ? { fanout: fanoutOf(calls, startedAt), provenance: withCacheAges(provenance, calls) } : explainResponseHit(responseAge, provenance);
          setResult({ ...result, extensions: { ...result.extensions, ...explained } });
        },
      };
    },
  };
}
