import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import { STALE_EXTENSION } from '../cache/upstream-cache';
import type { FederationContext } from '../federation/request-context';

/** Values of one source lookup served past their freshness because the source failed. */
export interface StaleServed {
  source: string;
  /** The cached lookup: `cache Order.customerRef`. */
  route: string;
  /** How many keys were answered this way. */
  keys: number;
  /** Age of the oldest value served, in milliseconds. */
  ageMs: number;
}

/**
 * Stale but labelled: when a source failed and the upstream-call cache answered with values kept
 * past their freshness (`staleIfErrorMs`), the answer carries `extensions.stale`, one entry per
 * source and lookup with the age of the oldest value, so that a dashboard can say "as of". Put it
 * before the response cache: an answer so labelled is never stored as a hot answer.
 */
export function useStaleLabel(): Plugin {
  return {
    onExecute({ args }) {
      const calls = (args.contextValue as Partial<FederationContext>).upstreamCalls;
      if (!calls) return;
      return {
        onExecuteDone({ result, setResult }) {
          if (isAsyncIterable(result)) return;
          const served = new Map<string, StaleServed>();
          for (const call of calls) {
            if (!call.staleIfError) continue;
            const id = `${call.source} ${call.route}`;
            const known = served.get(id);
            const ageMs = Math.round(call.ageMs ?? 0);
            if (known) {
              known.keys += call.batchSize;
              known.ageMs = Math.max(known.ageMs, ageMs);
            } else served.set(id, { source: call.source, route: call.route, keys: call.batchSize, ageMs });
          }
          if (served.size > 0) setResult({ ...result, extensions: { ...result.extensions, [STALE_EXTENSION]: [...served.values()] } });
        },
      };
    },
  };
}
