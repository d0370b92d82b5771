import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { CODES } from '../errors';
import type { CrosswalkRow } from '../mapping/crosswalk-rows';
import type { MappingStore } from '../mapping/mapping-store';
import type { LiveGateway } from './live-gateway';
import type { RegistryLog } from './registry-log';
import type { RegistryStore } from './registry-store';
import { RegistryError, type ImportProgress, type ImportReport } from './registry-reports';

/** Rejected rows kept for the report; the rest are counted. */
const REJECTED_ROWS_KEPT = 100;
const IMPORT_BATCH = 5_000;
const PROGRESS_EVERY_ROWS = 10_000;

export interface CrosswalkImportParts {
  /** The generation serving: which mappings take imports, and the lookups their values go to. */
  live: LiveGateway;
  tables: MappingStore;
  /** Where the import's audit entry goes. */
  store: RegistryStore;
  log: RegistryLog;
  /** Where uploads are staged; default the system's temporary directory. */
  stagingDir?: string;
}

export interface ImportOptions {
  /** Import the accepted rows even when some were rejected. */
  partial?: boolean;
  onProgress?: (progress: ImportProgress) => void;
}

/** One lock per mapping name: imports and removals of a mapping take turns. */
class MappingLocks {
  private readonly tails = new Map<string, Promise<void>>();

  /** Runs `work` once every earlier holder of each name has finished, holding the names meanwhile. */
  async hold<T>(names: readonly string[], work: () => Promise<T>): Promise<T> {
    const unique = [...new Set(names)].sort();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const before = unique.map((name) => this.tails.get(name) ?? Promise.resolve());
    for (const name of unique) this.tails.set(name, mine);
    try {
      await Promise.all(before);
      return await work();
    } finally {
      release();
      for (const name of unique) if (this.tails.get(name) === mine) this.tails.delete(name);
    }
  }
}

interface RunningImport {
  progress: ImportProgress;
  controller: AbortController;
}

/** Why an import stopped when it was cancelled. */
const cancelledBy = (mapping: string) => new RegistryError(CODES.CONFLICT, `the import of ${mapping} was cancelled: the mapping was removed meanwhile; nothing was imported`);

/** Each value of `rows`, until `signal` aborts: then the wait for the next row ends at once (a slow upload cannot hold a removal). */
async function* untilAborted<T>(rows: AsyncIterable<T>, signal: AbortSignal): AsyncGenerator<T> {
  const iterator = rows[Symbol.asyncIterator]();
  const aborted = new Promise<never>((_resolve, reject) => {
    const stop = () => reject(signal.reason);
    if (signal.aborted) stop();
    else signal.addEventListener('abort', stop, { once: true });
  });
  aborted.catch(() => undefined);
  try {
    for (;;) {
      const next = await Promise.race([iterator.next(), aborted]);
      if (next.done) return;
      yield next.value;
    }
  } finally {
    // Not awaited: a reader still waiting for data ends when its input is closed.
    void Promise.resolve(iterator.return?.()).catch(() => undefined);
  }
}

/**
 * Imports crosswalk pairs for registered crosswalk mappings, streamed: rows are checked one by one
 * (shape, and the patterns and value types of the lookups they will be sent to) and staged on
 * disk, never all in memory. Unless `partial`, a single rejected row rejects the import and
 * nothing changes; the store then takes every pair in one load (one transaction in PostgreSQL).
 *
 * Imports and removals of one mapping take turns (`whileRemoving`): a removal cancels the import
 * running, which answers that it was cancelled and leaves nothing behind, so that no pair of a
 * removed mapping is ever served again, nor comes back under a later mapping of the same name.
 */
export class CrosswalkImporter {
  private readonly running = new Map<string, RunningImport>();
  private readonly locks = new MappingLocks();
  /** Mappings being removed: an import that was waiting for one of them is cancelled when its turn comes. */
  private readonly removing = new Map<string, number>();

  constructor(private readonly parts: CrosswalkImportParts) {}

  /** The imports under way, as copies. */
  inProgress(): ImportProgress[] {
    return [...this.running.values()].map(({ progress }) => ({ ...progress }));
  }

  /** Cancels the imports of `mappings` under way and holds off any other until `work` (their removal) has ended. */
  whileRemoving<T>(mappings: readonly string[], work: () => Promise<T>): Promise<T> {
    if (mappings.length === 0) return work();
    for (const name of mappings) {
      this.removing.set(name, (this.removing.get(name) ?? 0) + 1);
      this.running.get(name)?.controller.abort(cancelledBy(name));
    }
    return this.locks.hold(mappings, work).finally(() => {
      for (const name of mappings) {
        const left = (this.removing.get(name) ?? 1) - 1;
        if (left === 0) this.removing.delete(name);
        else this.removing.set(name, left);
      }
    });
  }

  importCrosswalk(mappingName: string, rows: AsyncIterable<CrosswalkRow>, actor: string, options: ImportOptions = {}): Promise<ImportReport> {
    // Checked again once the lock is held: a removal that held it has gone live by then.
    this.importChecks(mappingName);
    return this.locks.hold([mappingName], () => {
      if (this.removing.has(mappingName)) throw cancelledBy(mappingName);
      return this.run(mappingName, rows, actor, options);
    });
  }

  private async run(mappingName: string, rows: AsyncIterable<CrosswalkRow>, actor: string, options: ImportOptions): Promise<ImportReport> {
    const checks = this.importChecks(mappingName);
    const started = performance.now();
    const progress: ImportProgress = { mapping: mappingName, phase: 'reading', rows: 0, rejected: 0, loaded: 0 };
    const controller = new AbortController();
    const { signal } = controller;
    this.running.set(mappingName, { progress, controller });
    const rejectedRows: ImportReport['rejectedRows'] = [];
    let stageDir: string | undefined;
    let out: WriteStream | undefined;
    let lastReport = 0;
    let failure: unknown;
    // Every 10,000 rows read or loaded, and at each change of phase of an import that long.
    const tell = (phaseChanged = false) => {
      const done = progress.rows + progress.loaded;
      if (phaseChanged ? progress.rows < PROGRESS_EVERY_ROWS : done - lastReport < PROGRESS_EVERY_ROWS) return;
      lastReport = done;
      options.onProgress?.({ ...progress });
    };
    try {
      stageDir = await mkdtemp(join(this.parts.stagingDir ?? tmpdir(), 'virtualize-import-'));
      const staged = join(stageDir, 'pairs.ndjson');
      out = createWriteStream(staged);
      let accepted = 0;
      for await (const row of untilAborted(rows, signal)) {
        progress.rows += 1;
        const reason = 'error' in row ? row.error : checks(row.pair);
        if (reason === undefined && 'pair' in row) {
          accepted += 1;
          if (!out.write(`${JSON.stringify(row.pair)}\n`)) await once(out, 'drain', { signal });
        } else {
          progress.rejected += 1;
          if (rejectedRows.length < REJECTED_ROWS_KEPT) rejectedRows.push({ line: row.line, reason: reason ?? 'rejected' });
        }
        tell();
      }
      out.end();
      await once(out, 'finish', { signal });
      const applied = progress.rejected === 0 || options.partial === true;
      let added = 0;
      if (applied && accepted > 0) {
        signal.throwIfAborted();
        this.importChecks(mappingName); // still a registered crosswalk after the upload
        progress.phase = 'loading';
        tell(true);
        added = await this.parts.tables.load(mappingName, this.stagedBatches(staged, progress, signal, () => tell()));
        const summary = `importCrosswalk ${mappingName}: ${progress.rows} rows, ${added} pairs added, ${progress.rejected} rejected`;
        await this.parts.store.record({ actor, action: 'importCrosswalk', summary, diff: [{ op: 'add', path: `mappings.${mappingName}.pairs`, after: added }] });
      }
      progress.phase = 'done';
      tell(true);
      const result: ImportReport = { mapping: mappingName, rows: progress.rows, accepted, added, rejected: progress.rejected, rejectedRows, applied, durationMs: Math.round(performance.now() - started) };
      this.parts.log({ level: 'info', msg: 'crosswalk import', actor, ...result, rejectedRows: undefined });
      return result;
    } catch (error) {
      failure = signal.aborted ? cancelledBy(mappingName) : error;
      throw failure;
    } finally {
      this.running.delete(mappingName);
      if (out && !out.closed) {
        // A write still pending fails once the stream is destroyed; that is no news, and must not
        // take the place of the reason the import stopped, nor skip the removal below.
        const closed = new Promise<void>((resolve) => out!.once('close', () => resolve()));
        out.on('error', () => undefined);
        out.destroy();
        await closed;
      }
      if (stageDir) await rm(stageDir, { recursive: true, force: true }).catch((error: unknown) => this.parts.log({ level: 'error', msg: 'crosswalk staging not removed', dir: stageDir, reason: String(error) }));
      // Logged once nothing of the import is left on disk.
      if (failure !== undefined) {
        const reason = failure instanceof Error ? failure.message : String(failure);
        this.parts.log({ level: 'info', msg: signal.aborted ? 'crosswalk import cancelled' : 'crosswalk import failed', actor, mapping: mappingName, rows: progress.rows, reason });
      }
    }
  }

  /** The staged pairs in batches; a cancellation fails the load, which then keeps none of them. */
  private async *stagedBatches(file: string, progress: ImportProgress, signal: AbortSignal, tell: () => void): AsyncGenerator<Array<[string, string]>> {
    let batch: Array<[string, string]> = [];
    for await (const line of createInterface({ input: createReadStream(file, { signal }), crlfDelay: Infinity })) {
      batch.push(JSON.parse(line) as [string, string]);
      if (batch.length === IMPORT_BATCH) {
        signal.throwIfAborted();
        yield batch;
        progress.loaded += batch.length;
        tell();
        batch = [];
      }
    }
    signal.throwIfAborted();
    if (batch.length > 0) {
      yield batch;
      progress.loaded += batch.length;
    }
  }

  /** The row check of a mapping that takes imports, or why it takes none. */
  private importChecks(mappingName: string): (pair: [string, string]) => string | undefined {
    const config = this.parts.live.config;
    const mapping = config.mappings[mappingName];
    if (!mapping) throw new RegistryError(CODES.NOT_FOUND, `no mapping ${mappingName}: register it first (its via: { "kind": "crosswalk" })`);
    if (mapping.via.kind !== 'crosswalk') throw new RegistryError(CODES.BAD_USER_INPUT, `mapping ${mappingName} joins by ${mapping.via.kind === 'fieldKey' ? 'a shared field' : 'a master-data service'}: it has no pairs to import`);
    if (mapping.via.file) throw new RegistryError(CODES.BAD_USER_INPUT, `mapping ${mappingName} is loaded from ${mapping.via.file} at start: change that file instead`);
    const { from, to } = this.parts.live.catalog.mapping(mappingName);
    const sides = [
      [from, from.lookup],
      [to, to.lookup],
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
}
