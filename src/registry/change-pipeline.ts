import type { MappingStore } from '../mapping/mapping-store';
import type { Candidate, CandidateChecks } from './candidate-checks';
import type { ChangePlan } from './change-plans';
import { diffDefinitions } from './definition-diff';
import type { RegistryRevision } from './registry-revision';
import { applyChanges, RevisionConflictError, type AuditEntry, type EntryChange, type RegistrySnapshot, type RegistryStore } from './registry-store';
import type { ChangeResult, ValidationReport } from './registry-reports';

export interface ChangePipelineParts {
  revision: RegistryRevision;
  checks: CandidateChecks;
  store: RegistryStore;
  /** The crosswalk pairs; a removed mapping's pairs are dropped, and so are any left under a new mapping's name. */
  tables: MappingStore;
  /** Runs `work` with the imports of `mappings` cancelled and held off (CrosswalkImporter.whileRemoving). */
  holdImports<T>(mappings: readonly string[], work: () => Promise<T>): Promise<T>;
}

/**
 * Attempts of one change: a change made meanwhile (here or on another replica) sends it back to
 * be checked again on the new state; past this many, it is refused with REGISTRY_CONFLICT, which
 * a client may retry.
 */
const ATTEMPTS = 3;

type Attempt = { done: ChangeResult } | { stale: RevisionConflictError };

/**
 * Checks, commits and puts live one change: all of it or, with every problem reported, none of
 * it. The checks (the build of the new generation and the sample calls, which can take as long
 * as a source takes to answer, up to registry.dryRun.timeoutMs) run outside the registry's
 * lock, so that a dry run against a source that hangs holds up no other change. Only the commit
 * and the swap are serialized: a change whose checks started from a revision that is no longer
 * the latest is checked again on the new one (the sample calls are not repeated).
 */
export class ChangePipeline {
  constructor(private readonly parts: ChangePipelineParts) {}

  async change(actor: string, action: string, sample: boolean, plan: ChangePlan): Promise<ChangeResult> {
    const { revision: state, holdImports } = this.parts;
    let sampled: ValidationReport | undefined;
    let conflict: RevisionConflictError | undefined;
    for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
      if (conflict) state.snapshot = await this.parts.store.load();
      const snapshot = state.snapshot;
      const changes = plan(snapshot);
      const removed = changes.filter((c) => c.kind === 'mapping' && c.definition === null).map((c) => c.name);
      const outcome = await holdImports(removed, async (): Promise<Attempt> => {
        const started = performance.now();
        const built = await this.checked(snapshot, changes, sample && !sampled);
        if (sample && !sampled) sampled = built.report;
        const report = withSamples(built.report, sampled);
        if (!built.gateway) {
          await this.recordRefusal(actor, action, changes, report);
          return { done: { ok: false, schemaVersion: state.live.version, report } };
        }
        return this.commit(actor, action, snapshot, changes, { ...built, report, gateway: built.gateway }, started);
      });
      if ('done' in outcome) return outcome.done;
      conflict = outcome.stale;
    }
    throw conflict!;
  }

  private checked(snapshot: RegistrySnapshot, changes: EntryChange[], sample: boolean): Promise<Candidate> {
    const touched = (kind: EntryChange['kind']) => changes.filter((c) => c.kind === kind && c.definition !== null).map((c) => c.name);
    return this.parts.checks.check(applyChanges(snapshot, changes), { build: true, ...(sample ? { sample: { sources: touched('source'), mappings: touched('mapping') } } : {}) });
  }

  /** Under the registry's lock: commits the change if the registry is still where its checks started, and swaps its generation in. */
  private commit(actor: string, action: string, snapshot: RegistrySnapshot, changes: EntryChange[], built: Candidate & { gateway: NonNullable<Candidate['gateway']> }, started: number): Promise<Attempt> {
    const { revision: state, store, tables } = this.parts;
    return state.serialize(async (): Promise<Attempt> => {
      if (state.snapshot.revision !== snapshot.revision) {
        await built.gateway.close();
        return { stale: new RevisionConflictError(snapshot.revision, state.snapshot.revision) };
      }
      const diff = changes.flatMap((c) => {
        const group = c.kind === 'source' ? 'sources' : 'mappings';
        return diffDefinitions(snapshot[group][c.name], c.definition ?? undefined, `${group}.${c.name}`);
      });
      const summary = `${action} ${changes.map((c) => `${c.kind} ${c.name}${c.definition === null ? ' (removed)' : ''}`).join(', ')}`;
      let revision: number;
      try {
        revision = await store.commit(snapshot.revision, changes, { actor, action, summary, diff });
      } catch (error) {
        await built.gateway.close();
        if (error instanceof RevisionConflictError) return { stale: error };
        throw error;
      }
      state.snapshot = { revision, ...applyChanges(snapshot, changes) };
      // A removed mapping's pairs go with it; a new mapping starts with none, whatever an earlier
      // mapping of its name left (an import that failed half-way on another replica, say).
      for (const c of changes) if (c.kind === 'mapping' && (c.definition === null || !(c.name in snapshot.mappings))) await tables.remove(c.name);
      state.swap(built.gateway, revision, started, action, actor);
      const audit: AuditEntry = { revision, at: new Date().toISOString(), actor, action, summary, diff };
      return { done: { ok: true, schemaVersion: revision, report: built.report, audit } };
    });
  }

  /** A refused change is audited too: its checks may have called the sources with the gateway's credentials. */
  private recordRefusal(actor: string, action: string, changes: EntryChange[], report: ValidationReport): Promise<void> {
    const named = changes.map((c) => `${c.kind} ${c.name}`).join(', ');
    const calls = report.samples.length > 0 ? `, ${report.samples.length} sample calls` : '';
    return this.parts.store.record({ actor, action, summary: `${action} ${named} refused: ${report.problems.length} problem${report.problems.length === 1 ? '' : 's'}${calls}`, diff: [] });
  }
}

/** A report of a change checked again, with the sample calls (and their warnings) of its first check. */
function withSamples(report: ValidationReport, sampled: ValidationReport | undefined): ValidationReport {
  if (!sampled || sampled === report) return report;
  return { ...report, samples: sampled.samples, warnings: [...report.warnings, ...sampled.warnings.filter((warning) => warning.stage === 'sample')] };
}
