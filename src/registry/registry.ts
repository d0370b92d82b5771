import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { isObjectType, type GraphQLSchema } from 'graphql';
import { definitionDocument, type DefinitionDocument, type EnvRef, type VirtualizationConfig } from '../config/definition';
import { resolveEnv } from '../config/env';
import { checkReferences } from '../config/references';
import { checkShape } from '../config/validate';
import type { RejectionListener } from '../connectors/source-connector';
import { CanonicalSchema } from '../federation/canonical-schema';
import { UpstreamCache } from '../cache/upstream-cache';
import { createGateway, type Gateway } from '../federation/gateway';
import { buildGatewaySchema } from '../federation/gateway-schema';
import { importCrosswalkCsv } from '../mapping/crosswalk-file';
import type { CrosswalkRow } from '../mapping/crosswalk-rows';
import { MemoryMappingStore, type MappingStore } from '../mapping/mapping-store';
import { routeMappings } from '../mapping/routed-mapping-store';
import { defaultLogger } from '../telemetry/logger';
import { diffDefinitions } from './definition-diff';
import { sampleDefinition, type Problem, type SampleCall } from './dry-run';
import { egressProblem, type HostResolver } from './egress-policy';
import { LiveGateway } from './live-gateway';
import { registrationProblems } from './registration-rules';
import { applyChanges, RevisionConflictError, type AuditEntry, type EntryChange, type RegistrySnapshot, type RegistryStore } from './registry-store';

/** Everything a dry run found, and what the schema would gain and lose. */
export interface ValidationReport {
  ok: boolean;
  problems: Problem[];
  warnings: Problem[];
  samples: SampleCall[];
  /** `Type.field` the unified schema would gain; empty when it was not compiled. */
  fieldsAdded: string[];
  fieldsRemoved: string[];
}

export interface ChangeResult {
  ok: boolean;
  /** The schema version live after the change (unchanged when it was refused). */
  schemaVersion: number;
  report: ValidationReport;
  audit?: AuditEntry;
}

export interface ImportReport {
  mapping: string;
  /** Data rows read. */
  rows: number;
  accepted: number;
  /** Pairs the store did not hold yet. */
  added: number;
  rejected: number;
  /** The first rejected rows, with their line numbers. */
  rejectedRows: Array<{ line: number; reason: string }>;
  /** False when rows were rejected and partial imports were not asked for: nothing was imported. */
  applied: boolean;
  durationMs: number;
}

export interface ImportProgress {
  mapping: string;
  phase: 'reading' | 'loading' | 'done';
  rows: number;
  rejected: number;
  loaded: number;
}

export interface RegistryStatus {
  schemaVersion: number;
  registryRevision: number;
  store: string;
  lastReload?: { at: string; ok: boolean; revision: number; message?: string };
  sources: Array<{ name: string; origin: 'config' | 'registry'; entities: string[]; state: string; lastErrorCode?: string }>;
  mappings: Array<{ name: string; origin: 'config' | 'registry'; kind: string; from: string; to: string; pairs?: number }>;
  imports: ImportProgress[];
}

export class RegistryError extends Error {
  constructor(
    readonly code: 'NOT_FOUND' | 'BAD_USER_INPUT' | 'CONFLICT',
    message: string,
  ) {
    super(message);
    this.name = 'RegistryError';
  }
}

export interface RegistryOptions {
  /** Directory that relative paths of the configuration resolve against. */
  baseDir: string;
  env: NodeJS.ProcessEnv;
  store: RegistryStore;
  /** One JSON object per event (swaps, reload failures, imports); default a line on stderr. */
  log?: (event: Record<string, unknown>) => void;
  /** DNS for the egress check (tests replace it). */
  resolveHost?: HostResolver;
  onReject?: RejectionListener;
}

/** Rejected rows kept for the report; the rest are counted. */
const REJECTED_ROWS_KEPT = 100;
const IMPORT_BATCH = 5_000;
const PROGRESS_EVERY_ROWS = 10_000;

/** Registry events go to the application log, as one JSON line each. */
export const writeLog = (event: Record<string, unknown>) => {
  const { level, msg, ...fields } = event;
  const logger = defaultLogger();
  const write = level === 'error' ? logger.error.bind(logger) : level === 'warn' ? logger.warn.bind(logger) : logger.info.bind(logger);
  write(fields, String(msg));
};

function problem(stage: Problem['stage'], path: string, message: string): Problem {
  return { stage, path, message };
}

function fieldsOf(schema: GraphQLSchema): Set<string> {
  const fields = new Set<string>();
  for (const type of Object.values(schema.getTypeMap())) {
    if (type.name.startsWith('__') || !isObjectType(type)) continue;
    for (const field of Object.keys(type.getFields())) fields.add(`${type.name}.${field}`);
  }
  return fields;
}

function report(problems: Problem[], warnings: Problem[] = [], samples: SampleCall[] = [], before?: GraphQLSchema, after?: GraphQLSchema): ValidationReport {
  const was = before ? fieldsOf(before) : new Set<string>();
  const will = after ? fieldsOf(after) : was;
  return {
    ok: problems.length === 0,
    problems,
    warnings,
    samples,
    fieldsAdded: [...will].filter((field) => !was.has(field)).sort(),
    fieldsRemoved: [...was].filter((field) => !will.has(field)).sort(),
  };
}

interface Candidate {
  report: ValidationReport;
  /** The generation to put live; only when the report is ok and one was asked for. */
  gateway?: Gateway;
}

/**
 * The run-time registry: sources and mappings registered through the admin API, on top of the
 * configuration file. Every change is checked as a whole (shape, rules, references, environment,
 * egress, the compiled schema, and on request one sample call per source) before it is committed;
 * a refused change changes nothing. An accepted one is committed to the store (with its audit
 * entry and diff), built into a new generation in the background and swapped in atomically.
 * Replicas sharing the store reload when told that it changed.
 */
export class Registry {
  readonly gateway: LiveGateway;
  private snapshot: RegistrySnapshot;
  /** Changes and reloads, one at a time. */
  private queue: Promise<unknown> = Promise.resolve();
  private lastReload: RegistryStatus['lastReload'];
  private readonly imports = new Set<ImportProgress>();
  private readonly log: (event: Record<string, unknown>) => void;

  private constructor(
    private readonly base: VirtualizationConfig,
    private readonly canonical: CanonicalSchema,
    /** Pairs of the configuration's crosswalk files (memory) and of imports (the store), as one store. */
    private readonly tables: MappingStore,
    private readonly options: RegistryOptions,
    snapshot: RegistrySnapshot,
    /** One upstream-call cache for every generation: what a swap keeps (and what /metrics counts). */
    private readonly upstreamCache: UpstreamCache,
    initial: Gateway,
  ) {
    this.snapshot = snapshot;
    this.log = options.log ?? writeLog;
    // Version 0 is the configuration alone; the registered revision is built by the first reload.
    this.gateway = new LiveGateway(initial, 0, async () => {
      await this.options.store.close();
      await this.upstreamCache.close();
    });
  }

  /**
   * Opens the registry over the configuration: loads the configuration's crosswalk files, then the
   * registered definitions. If those no longer build (an environment variable gone, say), the
   * gateway serves the configuration alone and says why in its status and readiness.
   */
  static async open(base: VirtualizationConfig, options: RegistryOptions): Promise<Registry> {
    const at = (path: string) => (isAbsolute(path) ? path : resolve(options.baseDir, path));
    const canonical = CanonicalSchema.fromDirectory(at(base.schemaDir));
    const fileTables = new MemoryMappingStore();
    const fromFiles = new Map<string, MappingStore>();
    for (const [name, mapping] of Object.entries(base.mappings)) {
      const via = mapping.via;
      if (via.kind !== 'crosswalk' || !via.file || !via.columns) continue;
      await importCrosswalkCsv(fileTables, name, at(via.file), via.columns);
      fromFiles.set(name, fileTables);
    }
    const tables = routeMappings(fromFiles, options.store.mappings);
    const snapshot = await options.store.load();
    const upstreamCache = await UpstreamCache.open(base.cache, options.env);
    let initial: Gateway;
    try {
      initial = await createGateway(base, Registry.gatewayOptions(options, tables, upstreamCache));
    } catch (error) {
      await upstreamCache.close();
      throw error;
    }
    const registry = new Registry(base, canonical, tables, options, snapshot, upstreamCache, initial);
    await registry.reload('start');
    options.store.watch(() => void registry.reload('notification').catch((error: unknown) => registry.log({ level: 'error', msg: 'registry reload failed', reason: String(error) })));
    return registry;
  }

  private static gatewayOptions(options: RegistryOptions, tables: MappingStore, upstreamCache: UpstreamCache) {
    return { baseDir: options.baseDir, env: options.env, store: tables, upstreamCache, loadCrosswalkFiles: false, ...(options.onReject ? { onReject: options.onReject } : {}) };
  }

  /** The registry revision last seen (it may be newer than the live schema when a reload failed). */
  get revision(): number {
    return this.snapshot.revision;
  }

  private serialize<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Checks entries against the configuration, and builds the generation they make when `build`.
   * `sample` names the sources and mappings to call with a sample.
   */
  private async candidate(entries: Pick<RegistrySnapshot, 'sources' | 'mappings'>, options: { build: boolean; sample?: { sources: string[]; mappings: string[] } }): Promise<Candidate> {
    const shape = checkShape(definitionDocument, entries);
    if (!shape.ok) return { report: report(shape.problems.map((p) => ({ ...p, stage: 'shape' }))) };
    const document: DefinitionDocument = shape.value;
    const problems: Problem[] = registrationProblems(document, this.base).map((p) => ({ ...p, stage: 'rules' }));
    // An entry named like one of the configuration file's is refused above; the file's own stays in force.
    const config: VirtualizationConfig = {
      ...this.base,
      sources: { ...document.sources, ...this.base.sources },
      mappings: { ...document.mappings, ...this.base.mappings },
    };
    problems.push(...checkReferences(config).map((p): Problem => ({ ...p, stage: 'references' })));
    if (problems.length > 0) return { report: report(problems) };

    const reachable = await this.reachableSources(document, problems);
    let schema: GraphQLSchema | undefined;
    let gateway: Gateway | undefined;
    try {
      if (options.build && problems.length === 0) {
        gateway = await createGateway(config, Registry.gatewayOptions(this.options, this.tables, this.upstreamCache));
        schema = gateway.schema;
      } else schema = buildGatewaySchema(config, this.canonical);
    } catch (error) {
      problems.push(problem('schema', '', `the unified schema cannot be built: ${error instanceof Error ? error.message : String(error)}`));
    }

    let samples: SampleCall[] = [];
    const warnings: Problem[] = [];
    if (options.sample) {
      const pinned = this.gateway.pin();
      try {
        const sampleSources = options.sample.sources.filter((name) => reachable.has(name));
        const outcome = await sampleDefinition({
          config,
          sources: sampleSources,
          mappings: options.sample.mappings.filter((name) => {
            const mapping = config.mappings[name]!;
            const home = (entity: string) => Object.keys(config.sources).find((source) => entity in config.sources[source]!.entities);
            return [home(mapping.from.entity), home(mapping.to.entity)].every((source) => source !== undefined && (source in this.base.sources || reachable.has(source)));
          }),
          env: this.options.env,
          tables: this.tables,
          liveConnectors: pinned.gateway.connectors,
        });
        samples = outcome.calls;
        problems.push(...outcome.problems);
        warnings.push(...outcome.warnings);
      } finally {
        pinned.release();
      }
    }
    const result = report(problems, warnings, samples, this.gateway.schema, schema);
    if (!result.ok && gateway) {
      await gateway.close();
      gateway = undefined;
    }
    return { report: result, ...(gateway ? { gateway } : {}) };
  }

  /**
   * The registered sources that may be called: every environment variable they name is set here
   * and their base URL passes the egress policy. The others' problems are added to `problems`.
   */
  private async reachableSources(document: DefinitionDocument, problems: Problem[]): Promise<Set<string>> {
    const reachable = new Set<string>();
    const missing = (path: string, variable: string) =>
      problem('environment', path, `the environment variable ${variable} is not set in the gateway's environment: set it on every replica, then register again`);
    for (const [name, source] of Object.entries(document.sources)) {
      if (name in this.base.sources) continue;
      const at = `sources.${name}`;
      const auth = source.auth;
      const secret = auth.type === 'header' ? { path: `${at}.auth.value`, ref: auth.value } : auth.type === 'bearer' ? { path: `${at}.auth.token`, ref: auth.token } : undefined;
      const secretMissing = secret !== undefined && !this.resolves(secret.ref);
      if (secretMissing) problems.push(missing(secret.path, secret.ref.env));
      let baseUrl: string;
      try {
        baseUrl = resolveEnv(source.baseUrl, this.options.env);
      } catch {
        problems.push(missing(`${at}.baseUrl`, typeof source.baseUrl === 'string' ? '' : source.baseUrl.env));
        continue;
      }
      const refused = await egressProblem(baseUrl, this.base.registry.egress, this.options.resolveHost);
      if (refused) problems.push(problem('egress', `${at}.baseUrl`, refused));
      else if (!secretMissing) reachable.add(name);
    }
    return reachable;
  }

  private resolves(ref: EnvRef): boolean {
    try {
      resolveEnv(ref, this.options.env);
      return true;
    } catch {
      return false;
    }
  }

  /** A dry run of a definition document against the live registry: changes nothing. */
  async validate(document: unknown, sample = true): Promise<ValidationReport> {
    const { entries, names } = this.entriesWith(document);
    const candidate = await this.candidate(entries, { build: false, ...(sample ? { sample: names } : {}) });
    return candidate.report;
  }

  /** The snapshot's entries with a document's laid over them, and the names it brings. */
  private entriesWith(document: unknown): { entries: Pick<RegistrySnapshot, 'sources' | 'mappings'>; names: { sources: string[]; mappings: string[] } } {
    const doc = (document ?? {}) as { sources?: unknown; mappings?: unknown };
    const asRecord = (value: unknown): Record<string, unknown> => (value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {});
    if (document === null || typeof document !== 'object' || Array.isArray(document)) {
      throw new RegistryError('BAD_USER_INPUT', 'a definition is a JSON object with "sources" and/or "mappings", as in virtualization.config.ts');
    }
    const sources = asRecord(doc.sources);
    const mappings = asRecord(doc.mappings);
    const extra = Object.keys(doc).filter((key) => !['sources', 'mappings', '$schema'].includes(key));
    if (extra.length > 0) throw new RegistryError('BAD_USER_INPUT', `a definition has "sources" and "mappings" only; remove ${extra.map((key) => `"${key}"`).join(', ')}`);
    return {
      entries: { sources: { ...this.snapshot.sources, ...sources }, mappings: { ...this.snapshot.mappings, ...mappings } },
      names: { sources: Object.keys(sources), mappings: Object.keys(mappings) },
    };
  }

  /** Registers a document's sources and mappings; every name must be new. */
  register(document: unknown, actor: string, sample = true): Promise<ChangeResult> {
    return this.change(actor, 'register', sample, (snapshot) => {
      const { names } = this.entriesWith(document);
      if (names.sources.length === 0 && names.mappings.length === 0) throw new RegistryError('BAD_USER_INPUT', 'the definition declares no source and no mapping');
      const taken = [...names.sources.filter((n) => n in snapshot.sources), ...names.mappings.filter((n) => n in snapshot.mappings)];
      if (taken.length > 0) throw new RegistryError('CONFLICT', `already registered: ${taken.join(', ')}; use updateSource (virtualize sources update) to change them`);
      return this.changesOf(document, names);
    });
  }

  /** Replaces registered sources (every source named must be registered) and registers or replaces the document's mappings. */
  update(document: unknown, actor: string, sample = true): Promise<ChangeResult> {
    return this.change(actor, 'update', sample, (snapshot) => {
      const { names } = this.entriesWith(document);
      const unknown = names.sources.filter((n) => !(n in snapshot.sources));
      if (unknown.length > 0) throw new RegistryError('NOT_FOUND', `not registered: ${unknown.join(', ')}; use registerSource (virtualize sources add) for new sources`);
      return this.changesOf(document, names);
    });
  }

  registerMapping(name: string, mapping: unknown, actor: string, sample = true): Promise<ChangeResult> {
    return this.change(actor, 'registerMapping', sample, (snapshot) => {
      if (name in snapshot.mappings) throw new RegistryError('CONFLICT', `mapping ${name} is already registered; remove it first`);
      return [{ kind: 'mapping', name, definition: mapping }];
    });
  }

  /** Removes a registered source; registered mappings that join it go with it only when asked. */
  removeSource(name: string, actor: string, withMappings = false): Promise<ChangeResult> {
    return this.change(actor, 'remove', false, (snapshot) => {
      if (!(name in snapshot.sources)) throw new RegistryError('NOT_FOUND', name in this.base.sources ? `source ${name} is declared in virtualization.config.ts, not registered: change it there` : `no source ${name} is registered`);
      const entities = new Set(Object.keys((snapshot.sources[name] as { entities?: object } | null)?.entities ?? {}));
      const joined = Object.entries(snapshot.mappings)
        .filter(([, mapping]) => {
          const m = mapping as { from?: { entity?: string }; to?: { entity?: string }; via?: { entity?: string } };
          return [m.from?.entity, m.to?.entity, m.via?.entity].some((entity) => entity !== undefined && entities.has(entity));
        })
        .map(([mappingName]) => mappingName);
      if (joined.length > 0 && !withMappings) throw new RegistryError('CONFLICT', `registered mappings join source ${name}: ${joined.join(', ')}; remove them first, or remove with their mappings (withMappings)`);
      return [{ kind: 'source', name, definition: null }, ...joined.map((mapping): EntryChange => ({ kind: 'mapping', name: mapping, definition: null }))];
    });
  }

  removeMapping(name: string, actor: string): Promise<ChangeResult> {
    return this.change(actor, 'removeMapping', false, (snapshot) => {
      if (!(name in snapshot.mappings)) throw new RegistryError('NOT_FOUND', name in this.base.mappings ? `mapping ${name} is declared in virtualization.config.ts, not registered` : `no mapping ${name} is registered`);
      return [{ kind: 'mapping', name, definition: null }];
    });
  }

  private changesOf(document: unknown, names: { sources: string[]; mappings: string[] }): EntryChange[] {
    const doc = document as { sources?: Record<string, unknown>; mappings?: Record<string, unknown> };
    return [
      ...names.sources.map((name): EntryChange => ({ kind: 'source', name, definition: doc.sources![name] })),
      ...names.mappings.map((name): EntryChange => ({ kind: 'mapping', name, definition: doc.mappings![name] })),
    ];
  }

  /**
   * Checks, commits and puts live one change: all of it or, with every problem reported, none of
   * it. A conflict with a change made meanwhile on another replica is retried once on the new state.
   */
  private change(actor: string, action: string, sample: boolean, plan: (snapshot: RegistrySnapshot) => EntryChange[]): Promise<ChangeResult> {
    return this.serialize(async () => {
      for (let attempt = 1; ; attempt++) {
        const snapshot = this.snapshot;
        const changes = plan(snapshot);
        const entries = applyChanges(snapshot, changes);
        const touched = (kind: EntryChange['kind']) => changes.filter((c) => c.kind === kind && c.definition !== null).map((c) => c.name);
        const started = performance.now();
        const built = await this.candidate(entries, { build: true, ...(sample ? { sample: { sources: touched('source'), mappings: touched('mapping') } } : {}) });
        if (!built.gateway) return { ok: false, schemaVersion: this.gateway.version, report: built.report };
        const diff = changes.flatMap((c) => {
          const group = c.kind === 'source' ? 'sources' : 'mappings';
          return diffDefinitions(snapshot[group][c.name], c.definition ?? undefined, `${group}.${c.name}`);
        });
        const summary = `${action} ${changes.map((c) => `${c.kind} ${c.name}${c.definition === null ? ' (removed)' : ''}`).join(', ')}`;
        let revision: number;
        try {
          revision = await this.options.store.commit(snapshot.revision, changes, { actor, action, summary, diff });
        } catch (error) {
          await built.gateway.close();
          if (!(error instanceof RevisionConflictError) || attempt > 1) throw error;
          this.snapshot = await this.options.store.load();
          continue;
        }
        this.snapshot = { revision, ...entries };
        for (const c of changes) if (c.kind === 'mapping' && c.definition === null) await this.tables.remove(c.name);
        this.swap(built.gateway, revision, started, action, actor);
        const audit: AuditEntry = { revision, at: new Date().toISOString(), actor, action, summary, diff };
        return { ok: true, schemaVersion: revision, report: built.report, audit };
      }
    });
  }

  /** Puts a built generation live and logs it; `started` is when its checks and build began. */
  private swap(gateway: Gateway, revision: number, started: number, trigger: string, actor?: string): void {
    const previous = this.gateway.version;
    this.gateway.swap(gateway, revision);
    this.lastReload = { at: new Date().toISOString(), ok: true, revision };
    this.log({ level: 'info', msg: 'schema swapped', version: revision, previous, trigger, ...(actor ? { actor } : {}), buildMs: Math.round(performance.now() - started) });
  }

  /**
   * Brings the live schema up to the store's revision (at start, or when another replica changed
   * it). A revision that does not build here leaves the last good schema live and is reported.
   */
  reload(trigger: string): Promise<void> {
    return this.serialize(async () => {
      const snapshot = await this.options.store.load();
      this.snapshot = snapshot;
      if (snapshot.revision === this.gateway.version) return;
      const started = performance.now();
      const built = await this.candidate({ sources: snapshot.sources, mappings: snapshot.mappings }, { build: true });
      if (!built.gateway) {
        const message = built.report.problems.map((p) => `${p.path || '(root)'}: ${p.message}`).join('; ');
        this.lastReload = { at: new Date().toISOString(), ok: false, revision: snapshot.revision, message };
        this.log({ level: 'error', msg: 'registry revision not applied; the previous schema stays live', revision: snapshot.revision, live: this.gateway.version, problems: built.report.problems });
        return;
      }
      this.swap(built.gateway, snapshot.revision, started, trigger);
    });
  }

  /**
   * Imports crosswalk pairs for a registered crosswalk mapping, streamed: rows are checked one by
   * one (shape, and the patterns and value types of the lookups they will be sent to) and staged
   * on disk, never all in memory. Unless `partial`, a single rejected row rejects the import and
   * nothing changes; the store then takes every pair in one load (one transaction in PostgreSQL).
   */
  async importCrosswalk(mappingName: string, rows: AsyncIterable<CrosswalkRow>, actor: string, options: { partial?: boolean; onProgress?: (progress: ImportProgress) => void } = {}): Promise<ImportReport> {
    const checks = this.importChecks(mappingName);
    const started = performance.now();
    const progress: ImportProgress = { mapping: mappingName, phase: 'reading', rows: 0, rejected: 0, loaded: 0 };
    this.imports.add(progress);
    const rejectedRows: ImportReport['rejectedRows'] = [];
    const stageDir = await mkdtemp(join(tmpdir(), 'virtualize-import-'));
    const staged = join(stageDir, 'pairs.ndjson');
    const out = createWriteStream(staged);
    let lastReport = 0;
    // Every 10,000 rows read or loaded, and at each change of phase of an import that long.
    const tell = (phaseChanged = false) => {
      const done = progress.rows + progress.loaded;
      if (phaseChanged ? progress.rows < PROGRESS_EVERY_ROWS : done - lastReport < PROGRESS_EVERY_ROWS) return;
      lastReport = done;
      options.onProgress?.({ ...progress });
    };
    try {
      let accepted = 0;
      for await (const row of rows) {
        progress.rows += 1;
        const reason = 'error' in row ? row.error : checks(row.pair);
        if (reason === undefined && 'pair' in row) {
          accepted += 1;
          if (!out.write(`${JSON.stringify(row.pair)}\n`)) await once(out, 'drain');
        } else {
          progress.rejected += 1;
          if (rejectedRows.length < REJECTED_ROWS_KEPT) rejectedRows.push({ line: row.line, reason: reason ?? 'rejected' });
        }
        tell();
      }
      out.end();
      await once(out, 'finish');
      const applied = progress.rejected === 0 || options.partial === true;
      let added = 0;
      if (applied && accepted > 0) {
        this.importChecks(mappingName); // still a registered crosswalk after the upload
        progress.phase = 'loading';
        tell(true);
        added = await this.tables.load(mappingName, this.stagedBatches(staged, progress, () => tell()));
        const summary = `importCrosswalk ${mappingName}: ${progress.rows} rows, ${added} pairs added, ${progress.rejected} rejected`;
        await this.options.store.record({ actor, action: 'importCrosswalk', summary, diff: [{ op: 'add', path: `mappings.${mappingName}.pairs`, after: added }] });
      }
      progress.phase = 'done';
      tell(true);
      const result: ImportReport = { mapping: mappingName, rows: progress.rows, accepted, added, rejected: progress.rejected, rejectedRows, applied, durationMs: Math.round(performance.now() - started) };
      this.log({ level: 'info', msg: 'crosswalk import', actor, ...result, rejectedRows: undefined });
      return result;
    } finally {
      this.imports.delete(progress);
      if (!out.closed) {
        out.destroy();
        await once(out, 'close');
      }
      await rm(stageDir, { recursive: true, force: true });
    }
  }

  private async *stagedBatches(file: string, progress: ImportProgress, tell: () => void): AsyncGenerator<Array<[string, string]>> {
    let batch: Array<[string, string]> = [];
    for await (const line of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) {
      batch.push(JSON.parse(line) as [string, string]);
      if (batch.length === IMPORT_BATCH) {
        yield batch;
        progress.loaded += batch.length;
        tell();
        batch = [];
      }
    }
    if (batch.length > 0) {
      yield batch;
      progress.loaded += batch.length;
    }
  }

  /** The row check of a mapping that takes imports, or why it takes none. */
  private importChecks(mappingName: string): (pair: [string, string]) => string | undefined {
    const config = this.gateway.config;
    const mapping = config.mappings[mappingName];
    if (!mapping) throw new RegistryError('NOT_FOUND', `no mapping ${mappingName}: register it first (its via: { "kind": "crosswalk" })`);
    if (mapping.via.kind !== 'crosswalk') throw new RegistryError('BAD_USER_INPUT', `mapping ${mappingName} joins by ${mapping.via.kind === 'fieldKey' ? 'a shared field' : 'a master-data service'}: it has no pairs to import`);
    if (mapping.via.file) throw new RegistryError('BAD_USER_INPUT', `mapping ${mappingName} is loaded from ${mapping.via.file} at start: change that file instead`);
    const lookupOf = (entity: string, field: string) => Object.values(config.sources).find((source) => entity in source.entities)?.entities[entity]?.lookups[field];
    const sides = [
      [mapping.from, lookupOf(mapping.from.entity, mapping.from.field)],
      [mapping.to, lookupOf(mapping.to.entity, mapping.to.field)],
    ] as const;
    const rules = sides.map(([side, lookup]) => {
      const pattern = lookup?.pattern === undefined ? undefined : new RegExp(lookup.pattern);
      const numeric = lookup?.valueType === 'number';
      const name = `${side.entity}.${side.field}`;
      return (value: string) =>
        pattern && !pattern.test(value)
          ? `${name} "${value}" does not match ${lookup!.pattern}, so it can never be found`
          : numeric && !/^-?[0-9]+(\.[0-9]+)?$/.test(value)
            ? `${name} "${value}" is not a number, and that lookup sends numbers`
            : undefined;
    });
    return (pair) => rules[0]!(pair[0]) ?? rules[1]!(pair[1]);
  }

  /** What `/readyz` reports about the registry: whether this replica is on the latest revision, and if not why. */
  readiness(): Pick<RegistryStatus, 'registryRevision' | 'store' | 'lastReload'> {
    return { registryRevision: this.snapshot.revision, store: this.options.store.description, ...(this.lastReload ? { lastReload: this.lastReload } : {}) };
  }

  async status(): Promise<RegistryStatus> {
    const config = this.gateway.config;
    const mappings = await Promise.all(
      Object.entries(config.mappings).map(async ([name, mapping]) => ({
        name,
        origin: name in this.base.mappings ? ('config' as const) : ('registry' as const),
        kind: mapping.via.kind,
        from: `${mapping.from.entity}.${mapping.from.field}`,
        to: `${mapping.to.entity}.${mapping.to.field}`,
        ...(mapping.via.kind === 'crosswalk' ? { pairs: await this.tables.count(name) } : {}),
      })),
    );
    return {
      schemaVersion: this.gateway.version,
      registryRevision: this.snapshot.revision,
      store: this.options.store.description,
      ...(this.lastReload ? { lastReload: this.lastReload } : {}),
      sources: [...this.gateway.connectors].map(([name, connector]) => ({
        name,
        origin: name in this.base.sources ? 'config' : 'registry',
        entities: Object.keys(connector.definition.entities),
        ...connector.http.health(),
      })),
      mappings,
      imports: [...this.imports].map((progress) => ({ ...progress })),
    };
  }

  auditTrail(limit: number): Promise<AuditEntry[]> {
    return this.options.store.auditTrail(Math.max(1, Math.min(limit, 1_000)));
  }

  /** A registered definition as a document, for `virtualize sources show` and for editing. */
  definitionOf(kind: 'source' | 'mapping', name: string): unknown {
    const entries = kind === 'source' ? this.snapshot.sources : this.snapshot.mappings;
    return entries[name] ?? null;
  }

  close(): Promise<void> {
    return this.gateway.close();
  }
}
