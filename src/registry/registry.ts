import type { OperationStore, TrustedOperation } from '../auth/caller';
import type { VirtualizationConfig } from '../config/definition';
import type { CanonicalSchema } from '../federation/canonical-schema';
import type { Gateway } from '../federation/gateway';
import type { CrosswalkRow } from '../mapping/crosswalk-rows';
import type { MappingStore } from '../mapping/mapping-store';
import { CandidateChecks } from './candidate-checks';
import { ChangePipeline } from './change-pipeline';
import { entriesWith, planRegister, planRegisterMapping, planRemoveMapping, planRemoveSource, planUpdate } from './change-plans';
import { CrosswalkImporter, type ImportOptions } from './crosswalk-import';
import type { HostResolver } from './egress-policy';
import { LiveGateway } from './live-gateway';
import { pushOperations, type OperationInput, type PushReport } from './operation-manifest';
import type { RegistryLog } from './registry-log';
import { reloadRegistry } from './registry-reload';
import { RegistryRevision } from './registry-revision';
import { systemClock, type TimerClock } from '../time/clock';
import { registryReadiness, registryStatus } from './registry-status';
import type { AuditEntry, AuditRecord, RegistrySnapshot, RegistryStore } from './registry-store';
import type { ChangeResult, ImportReport, RegistryStatus, ValidationReport } from './registry-reports';

export { RegistryError, type ChangeResult, type ImportProgress, type ImportReport, type RegistryStatus, type ValidationReport } from './registry-reports';

/** What a registry is built from; the runtime opens them (src/runtime/). The store and the tables stay its owner's to close. */
export interface RegistryParts {
  /** The configuration file, which registered entries sit on. */
  base: VirtualizationConfig;
  canonical: CanonicalSchema;
  /** Pairs of the configuration's crosswalk files and of imports, as one store. */
  tables: MappingStore;
  store: RegistryStore;
  /** The store's entries when the registry opens. */
  snapshot: RegistrySnapshot;
  /** The generation of the configuration alone (version 0), served until the first reload. */
  initial: Gateway;
  /** Builds the generation of a whole configuration (the file's and the registered entries). */
  build(config: VirtualizationConfig): Promise<Gateway>;
  env: NodeJS.ProcessEnv;
  /** One JSON object per event (swaps, reload failures, imports). */
  log: RegistryLog;
  /** DNS for the egress check (tests replace it). */
  resolveHost?: HostResolver;
  /**
   * The trusted-documents manifest as the gateway reads it (the store's, behind the cache that
   * requests read through, so that a push is seen at once); default the store's own.
   */
  operations?: OperationStore;
  /** What the deadline of a dry run's sample calls is measured on; default the process's clock. */
  clock?: TimerClock;
}

/**
 * The run-time registry: sources and mappings registered through the admin API, on top of the
 * configuration file. Every change is checked as a whole (CandidateChecks) before it is committed;
 * a refused change changes nothing. An accepted one is committed to the store (with its audit
 * entry and diff), built into a new generation and swapped in atomically (ChangePipeline).
 * Replicas sharing the store reload when told that it changed (reloadRegistry).
 *
 * This class is the face the admin API and the server see; each job is a module of its own.
 */
export class Registry {
  readonly gateway: LiveGateway;
  private readonly base: VirtualizationConfig;
  private readonly store: RegistryStore;
  private readonly tables: MappingStore;
  private readonly log: RegistryLog;
  private readonly state: RegistryRevision;
  private readonly checks: CandidateChecks;
  private readonly pipeline: ChangePipeline;
  private readonly importer: CrosswalkImporter;
  private readonly operations: OperationStore;

  constructor(parts: RegistryParts) {
    this.base = parts.base;
    this.store = parts.store;
    this.operations = parts.operations ?? parts.store.operations;
    this.tables = parts.tables;
    this.log = parts.log;
    // Version 0 is the configuration alone; the registered revision is built by the first reload.
    this.gateway = new LiveGateway(parts.initial, 0);
    this.state = new RegistryRevision(this.gateway, parts.snapshot, this.log);
    this.checks = new CandidateChecks({
      base: parts.base,
      canonical: parts.canonical,
      tables: parts.tables,
      env: parts.env,
      live: this.gateway,
      build: parts.build,
      clock: parts.clock ?? systemClock,
      ...(parts.resolveHost ? { resolveHost: parts.resolveHost } : {}),
    });
    const { stagingDir } = parts.base.registry.imports;
    this.importer = new CrosswalkImporter({ live: this.gateway, tables: parts.tables, store: parts.store, log: this.log, ...(stagingDir ? { stagingDir } : {}) });
    this.pipeline = new ChangePipeline({
      revision: this.state,
      checks: this.checks,
      store: parts.store,
      tables: parts.tables,
      holdImports: (mappings, work) => this.importer.whileRemoving(mappings, work),
    });
  }

  /**
   * Builds the registered revision (if it no longer builds, an environment variable gone say, the
   * gateway serves the configuration alone and says why in its status and readiness), then follows
   * the store's notifications of changes made on other replicas.
   */
  async start(): Promise<void> {
    await this.reload('start');
    this.store.watch(() => void this.reload('notification').catch((error: unknown) => this.log({ level: 'error', msg: 'registry reload failed', reason: String(error) })));
  }

  /** The registry revision last seen (it may be newer than the live schema when a reload failed). */
  get revision(): number {
    return this.state.snapshot.revision;
  }

  /**
   * A dry run of a definition document against the live registry: changes nothing but the audit
   * trail, which records every dry run (who, what it named, whether it called the sources, how it
   * went), since one with samples makes real calls with the gateway's credentials.
   */
  async validate(document: unknown, actor: string, sample = true): Promise<ValidationReport> {
    const { entries, names } = entriesWith(this.state.snapshot, document);
    const candidate = await this.checks.check(entries, { build: false, ...(sample ? { sample: names } : {}) });
    const { report } = candidate;
    const named = [...names.sources.map((name) => `source ${name}`), ...names.mappings.map((name) => `mapping ${name}`)].join(', ') || 'nothing';
    const calls = report.samples.length > 0 ? `, ${report.samples.length} sample calls to ${[...new Set(report.samples.map((call) => call.source))].join(', ')}` : sample ? ', sampled' : ', not sampled';
    const outcome = report.ok ? 'ok' : `${report.problems.length} problem${report.problems.length === 1 ? '' : 's'}`;
    await this.store.record({ actor, action: 'validateDefinition', summary: `validateDefinition ${named}${calls}: ${outcome}`, diff: [] });
    return report;
  }

  /** The bounds of one crosswalk upload (`registry.imports`). */
  importBounds(): { maxLineBytes: number; maxRows: number; maxBytes: number } {
    const { maxLineBytes, maxRows, maxUploadBytes } = this.base.registry.imports;
    return { maxLineBytes, maxRows, maxBytes: maxUploadBytes };
  }

  /** Registers a document's sources and mappings; every name must be new. */
  register(document: unknown, actor: string, sample = true): Promise<ChangeResult> {
    return this.pipeline.change(actor, 'register', sample, planRegister(document));
  }

  /** Replaces registered sources (every source named must be registered) and registers or replaces the document's mappings. */
  update(document: unknown, actor: string, sample = true): Promise<ChangeResult> {
    return this.pipeline.change(actor, 'update', sample, planUpdate(document));
  }

  registerMapping(name: string, mapping: unknown, actor: string, sample = true): Promise<ChangeResult> {
    return this.pipeline.change(actor, 'registerMapping', sample, planRegisterMapping(name, mapping));
  }

  /** Removes a registered source; registered mappings that join it go with it only when asked. */
  removeSource(name: string, actor: string, withMappings = false): Promise<ChangeResult> {
    return this.pipeline.change(actor, 'remove', false, planRemoveSource(this.base, name, withMappings));
  }

  removeMapping(name: string, actor: string): Promise<ChangeResult> {
    return this.pipeline.change(actor, 'removeMapping', false, planRemoveMapping(this.base, name));
  }

  /** Brings the live schema up to the store's revision. */
  reload(trigger: string): Promise<void> {
    return reloadRegistry({ revision: this.state, checks: this.checks, store: this.store, log: this.log }, trigger);
  }

  /** Imports crosswalk pairs for a registered crosswalk mapping (CrosswalkImporter). */
  importCrosswalk(mappingName: string, rows: AsyncIterable<CrosswalkRow>, actor: string, options: ImportOptions = {}): Promise<ImportReport> {
    return this.importer.importCrosswalk(mappingName, rows, actor, options);
  }

  /** What `/readyz` reports about the registry: whether this replica is on the latest revision, and if not why. */
  readiness(): Pick<RegistryStatus, 'registryRevision' | 'store' | 'lastReload'> {
    return registryReadiness({ revision: this.state, store: this.store });
  }

  status(): Promise<RegistryStatus> {
    return registryStatus({ base: this.base, revision: this.state, store: this.store, tables: this.tables, importer: this.importer });
  }

  auditTrail(limit: number): Promise<AuditEntry[]> {
    return this.store.auditTrail(Math.max(1, Math.min(limit, 1_000)));
  }

  /** Registers trusted operations (each checked against the live schema; all or none), audited. */
  pushOperations(inputs: readonly OperationInput[], actor: string): Promise<PushReport> {
    return pushOperations({ operations: this.operations, store: this.store, schema: () => this.gateway.schema, now: () => new Date().toISOString() }, inputs, actor);
  }

  /** Records an event that changes no definition (a key created or revoked) in the audit trail. */
  async recordEvent(record: AuditRecord): Promise<AuditEntry> {
    await this.store.record(record);
    return { revision: null, at: new Date().toISOString(), ...record };
  }

  /** The latest registered operations, newest first (at most 1,000). */
  listOperations(limit: number): Promise<TrustedOperation[]> {
    return this.operations.list(Math.max(1, Math.min(limit, 1_000)));
  }

  /** A registered definition as a document, for `virtualize sources show` and for editing. */
  definitionOf(kind: 'source' | 'mapping', name: string): unknown {
    const entries = kind === 'source' ? this.state.snapshot.sources : this.state.snapshot.mappings;
    return entries[name] ?? null;
  }

  /** Closes every generation, once its requests have ended. */
  close(): Promise<void> {
    return this.gateway.close();
  }
}
