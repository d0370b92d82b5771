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

/**
 * The caller's authorization partition: what of the caller can change an answer under this
 * access model, and nothing else (the scopes that some rule or mask names, whether the caller is
 * authenticated when a rule asks, each policy outcome the operation needed). Two callers with the
 * same partition see the same answers; the response tier keys answers by it.
 */
export function partitionOf(model: AccessModel, caller: Caller, outcomes: PolicyOutcomes): string {
  const scopes = [...model.scopes].filter((scope) => caller.scopes.has(scope)).sort();
  const policies = [...outcomes].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([name, allowed]) => `${name}=${allowed ? 1 : 0}`);
  const described = JSON.stringify([scopes, model.usesAuthenticated ? caller.kind !== 'anonymous' : null, policies]);
  return createHash('sha256').update(described).digest('base64url').slice(0, 22);
}
