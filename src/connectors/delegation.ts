/**
 * One delegation of the engine to a source: a batched lookup of an entity by one of its fields,
 * or one page of a list. It makes one upstream call or several (batches above the source's
 * maximum size, or one call per key when the source has no batch endpoint).
 */
export interface Delegation {
  source: string;
  entity: string;
  /** The field looked up by, or `list` for a page of the entity's list. */
  lookup: string;
  /** Keys in the batch, or records asked for by a list. */
  batchSize: number;
}

/**
 * Runs a delegation (`run` makes its upstream calls) and returns what `run` returns. Telemetry
 * wraps it in a span; the default runs it as it is.
 */
export type DelegationRunner = <T>(delegation: Delegation, run: () => Promise<T>) => Promise<T>;

export const runDirectly: DelegationRunner = (_delegation, run) => run();
