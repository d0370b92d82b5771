/** What the catalog names: the kinds of entry a lookup by name can miss. */
export type CatalogEntryKind = 'source' | 'entity' | 'lookup' | 'mapping';

/**
 * A name the catalog does not hold. Raised only by code that asks for an entry the definitions do
 * not declare (a programming error, or a definition that skipped validation); the message lists
 * what exists, so that the fix is a look away.
 */
export class UnknownCatalogNameError extends Error {
  constructor(
    readonly kind: CatalogEntryKind,
    readonly entryName: string,
    readonly known: readonly string[],
    /** What the missing entry was asked of, e.g. `entity Order` for a lookup. */
    readonly within?: string,
  ) {
    const where = within ? ` of ${within}` : '';
    const choices = known.length > 0 ? known.join(', ') : 'none';
    super(`The catalog has no ${kind} ${entryName}${where} (known: ${choices})`);
    this.name = 'UnknownCatalogNameError';
  }
}

/**
 * Definitions the catalog cannot be compiled from: an entity served twice, a mapping naming an
 * entity or lookup that does not exist. A configuration that passed validation (`validateConfig`,
 * `checkReferences`) never raises it; the message says which check was skipped.
 */
export class CatalogDefinitionError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`The catalog cannot be compiled from these definitions (validate them first: checkReferences reports the same at their paths):\n  - ${problems.join('\n  - ')}`);
    this.name = 'CatalogDefinitionError';
  }
}
