import type { Pool } from 'pg';
import type { MappingStore } from './mapping-store';

/** Rows per INSERT: large enough to amortize round trips, small enough to keep statements cheap. */
const INSERT_CHUNK = 5_000;

/**
 * Crosswalk pairs in PostgreSQL, for fleets and for crosswalks of millions of rows: one table
 * indexed both ways (primary key on mapping + from + to, a second index on mapping + to + from),
 * so that a batch of keys is one index scan whatever the table's size. Tables come from the
 * registry's migrations.
 */
export class PostgresMappingStore implements MappingStore {
  constructor(
    private readonly pool: Pool,
    /** A validated SQL identifier. */
    private readonly schema: string,
  ) {}

  private async partners(mapping: string, values: readonly string[], by: 'from_value' | 'to_value', other: 'from_value' | 'to_value'): Promise<Map<string, string[]>> {
    const found = new Map<string, string[]>(values.map((value) => [value, []]));
    if (values.length === 0) return found;
    const { rows } = await this.pool.query<{ key: string; partner: string }>(
      `SELECT ${by} AS key, ${other} AS partner FROM ${this.schema}.crosswalk_pairs WHERE mapping = $1 AND ${by} = ANY($2::text[]) ORDER BY ${by}, ${other}`,
      [mapping, [...new Set(values)]],
    );
    for (const row of rows) found.get(row.key)?.push(row.partner);
    return found;
  }

  forward(mapping: string, fromValues: readonly string[]): Promise<Map<string, string[]>> {
    return this.partners(mapping, fromValues, 'from_value', 'to_value');
  }

  reverse(mapping: string, toValues: readonly string[]): Promise<Map<string, string[]>> {
    return this.partners(mapping, toValues, 'to_value', 'from_value');
  }

  private async insert(client: Pick<Pool, 'query'>, mapping: string, pairs: ReadonlyArray<readonly [string, string]>): Promise<number> {
    let added = 0;
    for (let i = 0; i < pairs.length; i += INSERT_CHUNK) {
      const chunk = pairs.slice(i, i + INSERT_CHUNK);
      const result = await client.query(
        `INSERT INTO ${this.schema}.crosswalk_pairs (mapping, from_value, to_value)
         SELECT $1, f, t FROM unnest($2::text[], $3::text[]) AS pairs(f, t)
         ON CONFLICT DO NOTHING`,
        [mapping, chunk.map((pair) => pair[0]), chunk.map((pair) => pair[1])],
      );
      added += result.rowCount ?? 0;
    }
    return added;
  }

  add(mapping: string, pairs: Iterable<readonly [string, string]>): Promise<number> {
    return this.insert(this.pool, mapping, [...pairs]);
  }

  /** Imports and removals of one mapping take turns across replicas. */
  private lockOf(client: Pick<Pool, 'query'>, mapping: string): Promise<unknown> {
    return client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`virtualize-crosswalk:${this.schema}:${mapping}`]);
  }

  /** One transaction: readers see every pair of the import or none. */
  async load(mapping: string, batches: AsyncIterable<ReadonlyArray<readonly [string, string]>>): Promise<number> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await this.lockOf(client, mapping);
      let added = 0;
      for await (const batch of batches) added += await this.insert(client, mapping, batch);
      await client.query('COMMIT');
      return added;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  /** Waits for an import of the mapping committing on any replica, then deletes every pair: none survives the removal. */
  async remove(mapping: string): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await this.lockOf(client, mapping);
      await client.query(`DELETE FROM ${this.schema}.crosswalk_pairs WHERE mapping = $1`, [mapping]);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  async count(mapping: string): Promise<number> {
    const { rows } = await this.pool.query<{ count: string }>(`SELECT count(*) AS count FROM ${this.schema}.crosswalk_pairs WHERE mapping = $1`, [mapping]);
    return Number(rows[0]?.count ?? 0);
  }

  /** The pool belongs to the registry store, which closes it. */
  async close(): Promise<void> {}
}
