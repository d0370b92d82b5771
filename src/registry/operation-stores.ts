/**
 * Where the trusted-documents manifest lives, beside the registry's other entries: an append-only
 * file for one replica, a table for a fleet. Operations are named by their hash, so registering
 * one twice keeps the first and changes nothing.
 */
import { createReadStream } from 'node:fs';
import { appendFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Pool } from 'pg';
import type { OperationStore, TrustedOperation } from '../auth/caller';

function isTrustedOperation(value: unknown): value is TrustedOperation {
  const candidate = value as Partial<TrustedOperation> | null;
  return (
    typeof candidate === 'object' &&
    candidate !== null &&
    typeof candidate.hash === 'string' &&
    typeof candidate.document === 'string' &&
    (candidate.name === null || typeof candidate.name === 'string') &&
    typeof candidate.registeredAt === 'string'
  );
}

/**
 * The manifest of one replica: `operations.ndjson` under the registry directory (one operation
 * per line, appended), served from memory and read back at start. A line torn by a crash is
 * skipped: its push was never acknowledged.
 */
export class FileOperationStore implements OperationStore {
  private readonly operations = new Map<string, TrustedOperation>();
  /** Pushes are applied one at a time. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly dir: string) {}

  private get file(): string {
    return join(this.dir, 'operations.ndjson');
  }

  /** Reads the operations kept on disk back into memory. */
  async restore(): Promise<void> {
    const lines = createInterface({ input: createReadStream(this.file).on('error', () => undefined), crlfDelay: Infinity });
    try {
      for await (const line of lines) {
        try {
          const operation = JSON.parse(line) as unknown;
          if (isTrustedOperation(operation) && !this.operations.has(operation.hash)) this.operations.set(operation.hash, operation);
        } catch {
          // a torn last line
        }
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }

  put(operations: readonly TrustedOperation[]): Promise<void> {
    const run = this.queue.then(async () => {
      const fresh = new Map<string, TrustedOperation>();
      for (const operation of operations) if (!this.operations.has(operation.hash) && !fresh.has(operation.hash)) fresh.set(operation.hash, operation);
      if (fresh.size === 0) return;
      await mkdir(this.dir, { recursive: true });
      await appendFile(this.file, [...fresh.values()].map((operation) => `${JSON.stringify(operation)}\n`).join(''));
      for (const [hash, operation] of fresh) this.operations.set(hash, operation);
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  async find(hash: string): Promise<TrustedOperation | undefined> {
    return this.operations.get(hash);
  }

  async list(limit: number): Promise<TrustedOperation[]> {
    // Insertion order is registration order: the newest are last.
    return [...this.operations.values()].slice(-limit).reverse();
  }
}

/** The manifest of a fleet: the table `trusted_operations` (registry migration 3). */
export class PostgresOperationStore implements OperationStore {
  constructor(
    private readonly pool: Pool,
    /** A validated SQL identifier. */
    private readonly schema: string,
  ) {}

  async put(operations: readonly TrustedOperation[]): Promise<void> {
    if (operations.length === 0) return;
    await this.pool.query(
      `INSERT INTO ${this.schema}.trusted_operations (hash, document, name, registered_at)
       SELECT h, d, n, r::timestamptz FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS pushed(h, d, n, r)
       ON CONFLICT (hash) DO NOTHING`,
      [operations.map((o) => o.hash), operations.map((o) => o.document), operations.map((o) => o.name), operations.map((o) => o.registeredAt)],
    );
  }

  async find(hash: string): Promise<TrustedOperation | undefined> {
    const { rows } = await this.pool.query<Row>(`SELECT hash, document, name, registered_at FROM ${this.schema}.trusted_operations WHERE hash = $1`, [hash]);
    return rows[0] ? operationOf(rows[0]) : undefined;
  }

  async list(limit: number): Promise<TrustedOperation[]> {
    const { rows } = await this.pool.query<Row>(`SELECT hash, document, name, registered_at FROM ${this.schema}.trusted_operations ORDER BY registered_at DESC, hash LIMIT $1`, [limit]);
    return rows.map(operationOf);
  }
}

interface Row {
  hash: string;
  document: string;
  name: string | null;
  registered_at: Date;
}

function operationOf(row: Row): TrustedOperation {
  return { hash: row.hash, document: row.document, name: row.name, registeredAt: row.registered_at.toISOString() };
}
