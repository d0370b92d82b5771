import type { CandidateChecks } from './candidate-checks';
import type { RegistryLog } from './registry-log';
import type { RegistryRevision } from './registry-revision';
import type { RegistryStore } from './registry-store';

export interface ReloadParts {
  revision: RegistryRevision;
  checks: CandidateChecks;
  store: RegistryStore;
  log: RegistryLog;
}

/**
 * Brings the live schema up to the store's revision (at start, or when another replica changed
 * it). A revision that does not build here leaves the last good schema live and is reported.
 */
export function reloadRegistry({ revision, checks, store, log }: ReloadParts, trigger: string): Promise<void> {
  return revision.serialize(async () => {
    const snapshot = await store.load();
    revision.snapshot = snapshot;
    if (snapshot.revision === revision.live.version) return;
    const started = performance.now();
    const built = await checks.check({ sources: snapshot.sources, mappings: snapshot.mappings }, { build: true });
    if (!built.gateway) {
      const message = built.report.problems.map((p) => `${p.path || '(root)'}: ${p.message}`).join('; ');
      revision.lastReload = { at: new Date().toISOString(), ok: false, revision: snapshot.revision, message };
      log({ level: 'error', msg: 'registry revision not applied; the previous schema stays live', revision: snapshot.revision, live: revision.live.version, problems: built.report.problems });
      return;
    }
    revision.swap(built.gateway, snapshot.revision, started, trigger);
  });
}
