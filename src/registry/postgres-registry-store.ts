import { Client, Pool, type PoolClient } from 'pg';
import { PostgresMappingStore } from '../mapping/postgres-mapping-store';
import { PostgresApiKeyStore } from './api-key-stores';
import { PostgresOperationStore } from './operation-stores';
import { migrate } from './postgres-migrations';
import { RevisionConflictError, type AuditEntry, type AuditRecord, type EntryChange, type RegistrySnapshot, type RegistryStore } from './registry-store';

export interface PostgresRegistryOptions {
  url: string;
  /** A lower-case SQL identifier (checked by the configuration format). */
  schema: string;
  /** A replica re-reads the registry this often anyway, in case a notification was lost. */
  pollIntervalMs: number;
  /** Told about a lost notification connection (it is re-established). */
  onListenError?: (error: Error) => void;
}

/** Longest wait between two attempts to re-establish the notification connection. */
const MAX_RECONNECT_MS = 5_000;

/**
 * The registry of a fleet, in PostgreSQL: definitions, the audit trail, the crosswalk pairs and the trusted-documents manifest, in
 * tables that migrations create. A commit notifies every replica (LISTEN/NOTIFY on a channel per
 * schema); each reloads within moments, and polls in case a notification was lost.
 */
export class PostgresRegistryStore implements RegistryStore {
  readonly description: string;
  readonly mappings: PostgresMappingStore;
  readonly operations: PostgresOperationStore;
  readonly apiKeys: PostgresApiKeyStore;
  private readonly channel: string;
  private listener: Client | undefined;
  private poll: NodeJS.Timeout | undefined;
  private closed = false;

  private constructor(
    private readonly pool: Pool,
    private readonly options: PostgresRegistryOptions,
  ) {
    this.description = `postgres schema ${options.schema}`;
    this.mappings = new PostgresMappingStore(pool, options.schema);
    this.operations = new PostgresOperationStore(pool, options.schema);
    this.apiKeys = new PostgresApiKeyStore(pool, options.schema);
    this.channel = `virtualize_registry_${options.schema}`;
  }

  static async open(options: PostgresRegistryOptions): Promise<PostgresRegistryStore> {
    const pool = new Pool({ connectionString: options.url, max: 8, application_name: 'virtualize' });
    // An idle client that loses its connection emits on the pool; it is replaced on next use.
    pool.on('error', () => undefined);
    try {
      await migrate(pool, options.schema);
    } catch (error) {
      await pool.end();
      throw error;
    }
    return new PostgresRegistryStore(pool, options);
  }

  private get s(): string {
    return this.options.schema;
  }

  async load(): Promise<RegistrySnapshot> {
    const client = await this.pool.connect();
    try {
      // One snapshot: the revision and the entries it names.
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const { rows: state } = await client.query<{ revision: string }>(`SELECT revision FROM ${this.s}.registry_state`);
      const { rows } = await client.query<{ kind: 'source' | 'mapping'; name: string; definition: unknown }>(`SELECT kind, name, definition FROM ${this.s}.registry_entries ORDER BY kind, name`);
      await client.query('COMMIT');
      const snapshot: RegistrySnapshot = { revision: Number(state[0]?.revision ?? 0), sources: {}, mappings: {} };
      for (const row of rows) (row.kind === 'source' ? snapshot.sources : snapshot.mappings)[row.name] = row.definition;
      return snapshot;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  async commit(expectedRevision: number, changes: readonly EntryChange[], audit: AuditRecord): Promise<number> {
    return this.transaction(async (client) => {
      const { rows } = await client.query<{ revision: string }>(`SELECT revision FROM ${this.s}.registry_state FOR UPDATE`);
      const actual = Number(rows[0]?.revision ?? 0);
      if (actual !== expectedRevision) throw new RevisionConflictError(expectedRevision, actual);
      const revision = actual + 1;
      for (const change of changes) {
        if (change.definition === null) {
          await client.query(`DELETE FROM ${this.s}.registry_entries WHERE kind = $1 AND name = $2`, [change.kind, change.name]);
        } else {
          await client.query(
            `INSERT INTO ${this.s}.registry_entries (kind, name, definition, revision, updated_by) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (kind, name) DO UPDATE SET definition = EXCLUDED.definition, revision = EXCLUDED.revision, updated_at = now(), updated_by = EXCLUDED.updated_by`,
            [change.kind, change.name, JSON.stringify(change.definition), revision, audit.actor],
          );
        }
      }
      await client.query(`UPDATE ${this.s}.registry_state SET revision = $1`, [revision]);
      await this.insertAudit(client, revision, audit);
      // Delivered to every listener when the transaction commits, never before.
      await client.query('SELECT pg_notify($1, $2)', [this.channel, String(revision)]);
      return revision;
    });
  }

  async record(audit: AuditRecord): Promise<void> {
    await this.insertAudit(this.pool, null, audit);
  }

  private async insertAudit(client: Pick<Pool, 'query'>, revision: number | null, audit: AuditRecord): Promise<void> {
    await client.query(`INSERT INTO ${this.s}.registry_audit (revision, actor, action, summary, diff) VALUES ($1, $2, $3, $4, $5)`, [
      revision,
      audit.actor,
      audit.action,
      audit.summary,
      JSON.stringify(audit.diff),
    ]);
  }

  async auditTrail(limit: number): Promise<AuditEntry[]> {
    const { rows } = await this.pool.query<{ revision: string | null; at: Date; actor: string; action: string; summary: string; diff: AuditEntry['diff'] }>(
      `SELECT revision, at, actor, action, summary, diff FROM ${this.s}.registry_audit ORDER BY id DESC LIMIT $1`,
      [limit],
    );
    return rows.map((row) => ({ ...row, revision: row.revision === null ? null : Number(row.revision), at: row.at.toISOString() }));
  }

  private async transaction<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  watch(onChange: () => void): void {
    let delay = 100;
    const listen = async (): Promise<void> => {
      if (this.closed) return;
      const client = new Client({ connectionString: this.options.url, application_name: 'virtualize-listener' });
      let failed = false;
      const retry = (error: Error) => {
        if (failed) return;
        failed = true;
        this.options.onListenError?.(error);
        client.removeAllListeners();
        void client.end().catch(() => undefined);
        if (this.listener === client) this.listener = undefined;
        if (this.closed) return;
        setTimeout(() => void listen(), delay).unref();
        delay = Math.min(delay * 2, MAX_RECONNECT_MS);
      };
      client.on('error', retry);
      client.on('notification', (message) => {
        if (message.channel === this.channel) onChange();
      });
      try {
        await client.connect();
        await client.query(`LISTEN ${this.channel}`);
        this.listener = client;
        delay = 100;
        // Anything committed while the connection was down is picked up now.
        onChange();
      } catch (error) {
        retry(error instanceof Error ? error : new Error(String(error)));
      }
    };
    void listen();
    this.poll = setInterval(onChange, this.options.pollIntervalMs);
    this.poll.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.poll) clearInterval(this.poll);
    const listener = this.listener;
    this.listener = undefined;
    if (listener) {
      listener.removeAllListeners();
      listener.on('error', () => undefined);
      await listener.end().catch(() => undefined);
    }
    await this.pool.end();
  }
}
