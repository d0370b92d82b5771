import type { CallerCredential } from '../connectors/caller-credential';
import type { DelegationRunner } from '../connectors/delegation';
import type { CallObserver, UpstreamCall } from '../connectors/upstream-call';
import { RejectionTally } from '../connectors/record-rejections';
import { RequestLoaders, type LookupRunner } from '../connectors/request-loaders';
import type { SourceConnector } from '../connectors/source-connector';
import { CrosswalkLoaders } from '../mapping/join-keys';
import type { MappingStore } from '../mapping/mapping-store';
import type { KeysSent } from '../telemetry/operation-trace';

/**
 * What the resolvers of every source subschema share within one GraphQL request: the request's
 * loaders (so that all levels of one query batch together) and the record of upstream calls.
 */
export interface FederationContext {
  loaders: RequestLoaders;
  crosswalks: CrosswalkLoaders;
  upstreamCalls: UpstreamCall[];
  /** Records the mappings left out of this request's answer (`extensions.rejected`). */
  rejected: RejectionTally;
}

/** What the server hooks into one request: telemetry observes its calls and wraps its delegations. */
export interface RequestHooks {
  observe?: CallObserver;
  delegate?: DelegationRunner;
  /** Told whose values each master-data service is asked for (names and counts): the audit's. */
  sentKeys?: (keys: KeysSent) => void;
}

/** The mapping store of one request, given its loaders: service crosswalks ask through them. */
export type RequestCrosswalks = (loaders: RequestLoaders, sent?: (keys: KeysSent) => void) => MappingStore;

export function createFederationContext(
  connectors: ReadonlyMap<string, SourceConnector>,
  crosswalks: RequestCrosswalks,
  observe?: CallObserver,
  hooks: RequestHooks = {},
  lookup?: LookupRunner,
  /** Whom the request's calls are for: sent only to sources that forward their caller (`forwardCaller`). */
  caller?: CallerCredential,
): FederationContext {
  const upstreamCalls: UpstreamCall[] = [];
  const rejected = new RejectionTally();
  const loaders = new RequestLoaders(
    connectors,
    (call) => {
      upstreamCalls.push(call);
      // A cache hit went to no source: explain and the operation's trace show it (the trace as a
      // span of its own, counted apart from real calls); the gateway's observer hears real calls only.
      hooks.observe?.(call);
      if (!call.cacheHit) observe?.(call);
    },
    hooks.delegate,
    lookup,
    caller,
    rejected.add,
  );
  return { upstreamCalls, rejected, loaders, crosswalks: new CrosswalkLoaders(crosswalks(loaders, hooks.sentKeys)) };
}

export function federationContext(context: unknown): FederationContext {
  const candidate = context as Partial<FederationContext> | null;
  if (!candidate?.loaders || !candidate.crosswalks) {
    throw new Error('The request context lacks the federation context: create it with createFederationContext');
  }
  return candidate as FederationContext;
}
