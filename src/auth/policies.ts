import { createHash } from 'node:crypto';
import type { PolicyDecider } from '../config/definition/client-auth';
import type { AccessModel, PolicyOutcomes } from './access-model';
import type { Caller } from './caller';

/**
 * A policy that has not decided within this time denies: a decider that hangs must not hold the
 * request (and its budget) open. A bound, not a tuning knob.
 */
const POLICY_TIMEOUT_MS = 5_000;

function decideOne(decider: PolicyDecider | undefined, caller: Caller): Promise<boolean> {
  // An undecided policy (no function) denies; so does one that throws or answers anything but true.
  if (!decider) return Promise.resolve(false);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), POLICY_TIMEOUT_MS);
    timer.unref();
  });
  const decided = (async () => (await decider(caller)) === true)().catch(() => false);
  return Promise.race([decided, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Decides policies for one request, each at most once however many fields or operations of the
 * request name it (a batch shares one `PolicyDecisions`).
 */
export class PolicyDecisions {
  private readonly decided = new Map<string, Promise<boolean>>();

  constructor(
    private readonly deciders: Readonly<Record<string, PolicyDecider>>,
    private readonly caller: Caller,
  ) {}

  async outcomes(names: Iterable<string>): Promise<PolicyOutcomes> {
    const wanted = [...new Set(names)].sort();
    for (const name of wanted) if (!this.decided.has(name)) this.decided.set(name, decideOne(Object.hasOwn(this.deciders, name) ? this.deciders[name] : undefined, this.caller));
    const results = await Promise.all(wanted.map((name) => this.decided.get(name)!));
    return new Map(wanted.map((name, index) => [name, results[index]!]));
  }
}

/** What of a caller can change one operation's answer (see `partitionOf`). */
export interface PartitionBasis {
  /** The scopes the operation's rules and masks name. */
  readonly scopes: Iterable<string>;
  /** A rule asks for an authenticated caller. */
  readonly authenticated: boolean;
  /** The answer is the caller's own (a source that forwards its caller). */
  readonly perCaller: boolean;
}

/** The basis of an operation that reads the whole schema (introspection): everything the model names. */
export function modelBasis(model: AccessModel): PartitionBasis {
  return { scopes: model.scopes, authenticated: model.usesAuthenticated, perCaller: false };
}

/**
 * The caller's authorization partition for one operation: what of the caller shaped its answer,
 * and nothing else (the scopes its rules and masks name that the caller holds, whether the caller
 * is authenticated when a rule asks, each policy outcome it needed, and the caller itself when a
 * source answers per caller). Two callers with the same partition get the same answer; the
 * response tier keys answers by it.
 */
export function partitionOf(basis: PartitionBasis, caller: Caller, outcomes: PolicyOutcomes): string {
  const scopes = [...new Set(basis.scopes)].filter((scope) => caller.scopes.has(scope)).sort();
  const policies = [...outcomes].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([name, allowed]) => `${name}=${allowed ? 1 : 0}`);
  const described = JSON.stringify([scopes, basis.authenticated ? caller.kind !== 'anonymous' : null, policies, basis.perCaller ? caller.clientId : null]);
  return createHash('sha256').update(described).digest('base64url').slice(0, 22);
}
