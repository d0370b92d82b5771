import type { MappingStore } from '../mapping/mapping-store';
import type { CandidateChecks } from './candidate-checks';
import type { ChangePlan } from './change-plans';
import { diffDefinitions } from './definition-diff';
import type { RegistryRevision } from './registry-revision';
import { applyChanges, RevisionConflictError, type AuditEntry, type EntryChange, type RegistryStore } from './registry-store';
import type { ChangeResult } from './registry-reports';

export interface ChangePipelineParts {
  revision: RegistryRevision;
  checks: CandidateChecks;
  store: RegistryStore;
  /** The crosswalk pairs; a removed mapping's pairs are dropped. */
  tables: MappingStore;
}

/**
 * Checks, commits and puts live one change: all of it or, with every problem reported, none of
 * it. An accepted change is committed to the store with its audit entry and diff, and its
 * generation swapped in. A conflict with a change made meanwhile on another replica is retried
 * once on the new state.
 */
export class ChangePipeline {
  constructor(private readonly parts: ChangePipelineParts) {}

  change(actor: string, action: string, sample: boolean, plan: ChangePlan): Promise<ChangeResult> {
    const { revision: state, checks, store, tables } = this.parts;
    return state.serialize(async () => {
      for (let attempt = 1; ; attempt++) {
        const snapshot = state.snapshot;
        const changes = plan(snapshot);
        const entries = applyChanges(snapshot, changes);
        const touched = (kind: EntryChange['kind']) => changes.filter((c) => c.kind === kind && c.definition !== null).map((c) => c.name);
        const started = performance.now();
        const built = await checks.check(entries, { build: true, ...(sample ? { sample: { sources: touched('source'), mappings: touched('mapping') } } : {}) });
        if (!built.gateway) return { ok: false, schemaVersion: state.live.version, report: built.report };
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
          if (!(error instanceof RevisionConflictError) || attempt > 1) throw error;
          state.snapshot = await store.load();
          continue;
        }
        state.snapshot = { revision, ...entries };
        for (const c of changes) if (c.kind === 'mapping' && c.definition === null) await tables.remove(c.name);
        state.swap(built.gateway, revision, started, action, actor);
        const audit: AuditEntry = { revision, at: new Date().toISOString(), actor, action, summary, diff };
        return { ok: true, schemaVersion: revision, report: built.report, audit };
      }
    });
  }
}
