import type { Pool } from 'pg';

/**
 * The registry's tables, in order. A migration is never edited once released: a change is a new
 * one at the end. `{schema}` is replaced by the (validated) schema name.
 */
const MIGRATIONS: ReadonlyArray<{ version: number; name: string; sql: string }> = [
  {
    version: 1,
    name: 'registry entries, revision and audit trail',
    sql: `
      CREATE TABLE {schema}.registry_state (
        singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
        revision bigint NOT NULL
      );
      INSERT INTO {schema}.registry_state (revision) VALUES (0);
      CREATE TABLE {schema}.registry_entries (
        kind text NOT NULL CHECK (kind IN ('source', 'mapping')),
        name text NOT NULL,
        definition jsonb NOT NULL,
        revision bigint NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now(),
        updated_by text NOT NULL,
        PRIMARY KEY (kind, name)
      );
      CREATE TABLE {schema}.registry_audit (
        id bigserial PRIMARY KEY,
        revision bigint,
        at timestamptz NOT NULL DEFAULT now(),
        actor text NOT NULL,
        action text NOT NULL,
        summary text NOT NULL,
        diff jsonb NOT NULL
      );`,
  },
  {
    version: 2,
    name: 'crosswalk pairs, indexed both ways',
    sql: `
      CREATE TABLE {schema}.crosswalk_pairs (
        mapping text NOT NULL,
        from_value text NOT NULL,
        to_value text NOT NULL,
        PRIMARY KEY (mapping, from_value, to_value)
      );
      CREATE INDEX crosswalk_pairs_reverse ON {schema}.crosswalk_pairs (mapping, to_value, from_value);`,
  },
  {
    version: 3,
    name: 'trusted operations (the trusted-documents manifest), by hash',
    sql: `
      CREATE TABLE {schema}.trusted_operations (
        hash text PRIMARY KEY CHECK (hash ~ '^[0-9a-f]{64}$'),
        document text NOT NULL,
        name text,
        registered_at timestamptz NOT NULL DEFAULT now()
      );`,
  },
  {
    version: 4,
    name: 'managed API keys (id, name, scopes, the digest of the secret, dates)',
    sql: `
      CREATE TABLE {schema}.api_keys (
        id text PRIMARY KEY CHECK (id ~ '^[a-z2-7]{12}$'),
        name text NOT NULL,
        scopes text[] NOT NULL,
        digest text NOT NULL CHECK (digest ~ '^[0-9a-f]{64}$'),
        created_at timestamptz NOT NULL,
        last_used_at timestamptz,
        expires_at timestamptz,
        revoked_at timestamptz
      );`,
  },
];

/**
 * Brings the schema up to date. Replicas starting together take turns on an advisory lock, so
 * each migration runs once; all of them run in one transaction.
 */
export async function migrate(pool: Pool, schema: string): Promise<number[]> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`virtualize-migrations:${schema}`]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await client.query(`CREATE TABLE IF NOT EXISTS ${schema}.schema_migrations (version int PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const applied = new Set((await client.query<{ version: number }>(`SELECT version FROM ${schema}.schema_migrations`)).rows.map((row) => row.version));
    const ran: number[] = [];
    for (const migration of MIGRATIONS) {
      if (applied.has(migration.version)) continue;
      await client.query(migration.sql.replaceAll('{schema}', schema));
      await client.query(`INSERT INTO ${schema}.schema_migrations (version, name) VALUES ($1, $2)`, [migration.version, migration.name]);
      ran.push(migration.version);
    }
    await client.query('COMMIT');
    return ran;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
