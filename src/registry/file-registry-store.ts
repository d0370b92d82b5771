import { createReadStream } from 'node:fs';
import { appendFile, copyFile, mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { MemoryMappingStore, type MappingStore } from '../mapping/mapping-store';
import { FileApiKeyStore } from './api-key-stores';
import { FileOperationStore } from './operation-stores';
import { RevisionConflictError, applyChanges, type AuditEntry, type AuditRecord, type EntryChange, type RegistrySnapshot, type RegistryStore } from './registry-store';

const EMPTY: RegistrySnapshot = { revision: 0, sources: {}, mappings: {} };

/** Writes a file so that readers see the old content or the new one, never a part: a synced temporary file renamed over it. */
async function writeAtomically(path: string, text: string): Promise<void> {
  const temporary = `${path}.${process.pid}.${Date.now()}.tmp`;
  const handle = await open(temporary, 'w');
  try {
    await handle.writeFile(text, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temporary, path);
}

function crosswalkFile(dir: string, mapping: string): string {
  // Mapping names are identifiers (letters and digits), safe as file names.
  return join(dir, 'crosswalks', `${mapping}.ndjson`);
}

/**
 * Imported crosswalk pairs for one replica: served from memory, kept in one append-only file per
 * mapping (a JSON pair per line) and loaded back at start. A line torn by a crash is skipped.
 */
class FileMappingStore implements MappingStore {
  private readonly memory = new MemoryMappingStore();

  constructor(private readonly dir: string) {}

  /** Reads the pairs kept on disk back into memory. */
  async restore(mappings: readonly string[]): Promise<void> {
    for (const mapping of mappings) {
      const lines = createInterface({ input: createReadStream(crosswalkFile(this.dir, mapping)).on('error', () => undefined), crlfDelay: Infinity });
      let pending: Array<[string, string]> = [];
      try {
        for await (const line of lines) {
          try {
            const pair = JSON.parse(line) as unknown;
            if (Array.isArray(pair) && typeof pair[0] === 'string' && typeof pair[1] === 'string') pending.push([pair[0], pair[1]]);
          } catch {
            // a torn last line: the pair was never acknowledged
          }
          if (pending.length >= 10_000) {
            await this.memory.add(mapping, pending);
            pending = [];
          }
        }
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
      await this.memory.add(mapping, pending);
    }
  }

  forward(mapping: string, values: readonly string[]): Promise<Map<string, string[]>> {
    return this.memory.forward(mapping, values);
  }

  reverse(mapping: string, values: readonly string[]): Promise<Map<string, string[]>> {
    return this.memory.reverse(mapping, values);
  }

  async add(mapping: string, pairs: Iterable<readonly [string, string]>): Promise<number> {
    const list = [...pairs];
    if (list.length === 0) return 0;
    await mkdir(join(this.dir, 'crosswalks'), { recursive: true });
    await appendFile(crosswalkFile(this.dir, mapping), list.map((pair) => `${JSON.stringify(pair)}\n`).join(''));
    return this.memory.add(mapping, list);
  }

  /**
   * All or nothing: the kept pairs and the new ones are written to a temporary file, synced and
   * renamed over the mapping's file, and only then served. A load that fails (a cancelled import)
   * leaves the file and the served pairs as they were, and no temporary file behind.
   */
  async load(mapping: string, batches: AsyncIterable<ReadonlyArray<readonly [string, string]>>): Promise<number> {
    const file = crosswalkFile(this.dir, mapping);
    const temporary = `${file}.${process.pid}.${Date.now()}.tmp`;
    await mkdir(join(this.dir, 'crosswalks'), { recursive: true });
    const read: Array<ReadonlyArray<readonly [string, string]>> = [];
    try {
      await copyFile(file, temporary).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
      });
      const handle = await open(temporary, 'a');
      try {
        for await (const batch of batches) {
          read.push(batch);
          await handle.appendFile(batch.map((pair) => `${JSON.stringify(pair)}\n`).join(''));
        }
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temporary, file);
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    }
    return this.memory.add(mapping, read.flat());
  }

  async remove(mapping: string): Promise<void> {
    await rm(crosswalkFile(this.dir, mapping), { force: true });
    await this.memory.remove(mapping);
  }

  count(mapping: string): Promise<number> {
    return this.memory.count(mapping);
  }

  async close(): Promise<void> {}
}

/**
 * The embedded registry: `registry.json` (rewritten atomically on every change), `audit.ndjson`
 * (one line per change, appended), `crosswalks/`, `operations.ndjson` (the trusted-documents
 * manifest) and `api-keys.json` (managed API keys, as digests), under one directory. One replica only:
 * nothing tells a second process about a change.
 */
export class FileRegistryStore implements RegistryStore {
  readonly description: string;
  readonly mappings: FileMappingStore;
  readonly operations: FileOperationStore;
  readonly apiKeys: FileApiKeyStore;
  /** Changes are applied one at a time. */
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(private readonly dir: string) {
    this.description = `file ${dir}`;
    this.mappings = new FileMappingStore(dir);
    this.operations = new FileOperationStore(dir);
    this.apiKeys = new FileApiKeyStore(dir);
  }

  static async open(dir: string): Promise<FileRegistryStore> {
    const store = new FileRegistryStore(dir);
    const snapshot = await store.load();
    await store.mappings.restore(Object.keys(snapshot.mappings));
    await store.operations.restore();
    await store.apiKeys.restore();
    return store;
  }

  async load(): Promise<RegistrySnapshot> {
    try {
      return { ...EMPTY, ...(JSON.parse(await readFile(join(this.dir, 'registry.json'), 'utf8')) as Partial<RegistrySnapshot>) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return EMPTY;
      throw new Error(`The registry file ${join(this.dir, 'registry.json')} cannot be read: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  commit(expectedRevision: number, changes: readonly EntryChange[], audit: AuditRecord): Promise<number> {
    const run = this.queue.then(async () => {
      const current = await this.load();
      if (current.revision !== expectedRevision) throw new RevisionConflictError(expectedRevision, current.revision);
      const revision = current.revision + 1;
      await mkdir(this.dir, { recursive: true });
      await writeAtomically(join(this.dir, 'registry.json'), `${JSON.stringify({ revision, ...applyChanges(current, changes) }, null, 2)}\n`);
      await this.append({ revision, at: new Date().toISOString(), ...audit });
      return revision;
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  async record(audit: AuditRecord): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await this.append({ revision: null, at: new Date().toISOString(), ...audit });
  }

  private append(entry: AuditEntry): Promise<void> {
    return appendFile(join(this.dir, 'audit.ndjson'), `${JSON.stringify(entry)}\n`);
  }

  async auditTrail(limit: number): Promise<AuditEntry[]> {
    let text: string;
    try {
      text = await readFile(join(this.dir, 'audit.ndjson'), 'utf8');
    } catch {
      return [];
    }
    return text
      .split('\n')
      .filter(Boolean)
      .slice(-limit)
      .map((line) => JSON.parse(line) as AuditEntry)
      .reverse();
  }

  watch(): void {}

  async close(): Promise<void> {}
}
