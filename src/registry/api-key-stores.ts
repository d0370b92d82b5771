/**
 * Where managed API keys live, beside the registry's other entries: a file for one replica, a
 * table for a fleet (so that a key created on one replica works on every one). Only the id, the
 * name, the scopes, the dates and the SHA-256 digest of the secret are kept, never the key.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Pool } from 'pg';
import type { ApiKeyRecord, ApiKeyStore } from '../auth/caller';

function isApiKeyRecord(value: unknown): value is ApiKeyRecord {
  const candidate = value as Partial<ApiKeyRecord> | null;
  const dateOrNull = (date: unknown) => date === null || typeof date === 'string';
  return (
    typeof candidate === 'object' &&
    candidate !== null &&
    typeof candidate.id === 'string' &&
    typeof candidate.name === 'string' &&
    Array.isArray(candidate.scopes) &&
    candidate.scopes.every((scope) => typeof scope === 'string') &&
    typeof candidate.digest === 'string' &&
    typeof candidate.createdAt === 'string' &&
    dateOrNull(candidate.lastUsedAt) &&
    dateOrNull(candidate.expiresAt) &&
    dateOrNull(candidate.revokedAt)
  );
}

/**
 * The keys of one replica: `api-keys.json` under the registry directory, rewritten atomically
 * (a temporary file renamed over it) on every change, and served from memory.
 */
export class FileApiKeyStore implements ApiKeyStore {
  private readonly keys = new Map<string, ApiKeyRecord>();
  /** Changes are written one at a time. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly dir: string) {}

  private get file(): string {
    return join(this.dir, 'api-keys.json');
  }

  /** Reads the keys kept on disk back into memory. */
  async restore(): Promise<void> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    const parsed = JSON.parse(text) as unknown;
    if (!Array.isArray(parsed)) throw new Error(`The API key file ${this.file} does not hold a list of keys`);
    for (const record of parsed) if (isApiKeyRecord(record)) this.keys.set(record.id, record);
  }

  private write(change: () => boolean): Promise<boolean> {
    const run = this.queue.then(async () => {
      const before = new Map(this.keys);
      if (!change()) return false;
      try {
        await mkdir(this.dir, { recursive: true });
        const temporary = `${this.file}.${process.pid}.tmp`;
        await writeFile(temporary, JSON.stringify([...this.keys.values()], null, 2), { mode: 0o600 });
        await rename(temporary, this.file);
      } catch (error) {
        // Not written: memory stays as the file is.
        this.keys.clear();
        for (const [id, record] of before) this.keys.set(id, record);
        throw error;
      }
      return true;
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  async create(record: ApiKeyRecord): Promise<void> {
    await this.write(() => {
      if (this.keys.has(record.id)) throw new Error(`an API key with id ${record.id} exists already`);
      this.keys.set(record.id, { ...record, scopes: [...record.scopes] });
      return true;
    });
  }

  async find(id: string): Promise<ApiKeyRecord | undefined> {
    const record = this.keys.get(id);
    return record ? { ...record, scopes: [...record.scopes] } : undefined;
  }

  async list(): Promise<ApiKeyRecord[]> {
    return [...this.keys.values()].map((record) => ({ ...record, scopes: [...record.scopes] })).sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }

  revoke(id: string, at: string): Promise<boolean> {
    return this.write(() => {
      const record = this.keys.get(id);
      if (!record) return false;
      if (record.revokedAt === null) this.keys.set(id, { ...record, revokedAt: at });
      return true;
    });
  }

  async touch(id: string, at: string): Promise<void> {
    await this.write(() => {
      const record = this.keys.get(id);
      if (!record) return false;
      this.keys.set(id, { ...record, lastUsedAt: at });
      return true;
    });
  }
}

interface Row {
  id: string;
  name: string;
  scopes: string[];
  digest: string;
  created_at: Date;
  last_used_at: Date | null;
  expires_at: Date | null;
  revoked_at: Date | null;
}

const COLUMNS = 'id, name, scopes, digest, created_at, last_used_at, expires_at, revoked_at';

function recordOf(row: Row): ApiKeyRecord {
  return {
    id: row.id,
    name: row.name,
    scopes: row.scopes,
    digest: row.digest,
    createdAt: row.created_at.toISOString(),
    lastUsedAt: row.last_used_at?.toISOString() ?? null,
    expiresAt: row.expires_at?.toISOString() ?? null,
    revokedAt: row.revoked_at?.toISOString() ?? null,
  };
}

/** The keys of a fleet: the table `api_keys` (registry migration 4). */
export class PostgresApiKeyStore implements ApiKeyStore {
  constructor(
    private readonly pool: Pool,
    /** A validated SQL identifier. */
    private readonly schema: string,
  ) {}

  async create(record: ApiKeyRecord): Promise<void> {
    await this.pool.query(
      `INSERT INTO ${this.schema}.api_keys (${COLUMNS}) VALUES ($1, $2, $3, $4, $5::timestamptz, $6::timestamptz, $7::timestamptz, $8::timestamptz)`,
      [record.id, record.name, record.scopes, record.digest, record.createdAt, record.lastUsedAt, record.expiresAt, record.revokedAt],
    );
  }

  async find(id: string): Promise<ApiKeyRecord | undefined> {
    const { rows } = await this.pool.query<Row>(`SELECT ${COLUMNS} FROM ${this.schema}.api_keys WHERE id = $1`, [id]);
    return rows[0] ? recordOf(rows[0]) : undefined;
  }

  async list(): Promise<ApiKeyRecord[]> {
    const { rows } = await this.pool.query<Row>(`SELECT ${COLUMNS} FROM ${this.schema}.api_keys ORDER BY created_at DESC, id`);
    return rows.map(recordOf);
  }

  async revoke(id: string, at: string): Promise<boolean> {
    const { rowCount } = await this.pool.query(`UPDATE ${this.schema}.api_keys SET revoked_at = COALESCE(revoked_at, $2::timestamptz) WHERE id = $1`, [id, at]);
    return (rowCount ?? 0) > 0;
  }

  async touch(id: string, at: string): Promise<void> {
    await this.pool.query(`UPDATE ${this.schema}.api_keys SET last_used_at = $2::timestamptz WHERE id = $1`, [id, at]);
  }
}
