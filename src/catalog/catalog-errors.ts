import { CODES, VirtualizeError } from '../errors';

/** What the catalog names: the kinds of entry a lookup by name can miss. */
export type CatalogEntryKind = 'source' | 'entity' | 'lookup' | 'mapping';

/**
 * A name the catalog does not hold. Raised only by code that asks for an entry the definitions do
 * not declare (a programming error, or a definition that skipped validation); the message lists
 * what exists, so that the fix is a look away.
 */
export class UnknownCatalogNameError extends VirtualizeError<typeof CODES.INVALID_DEFINITION, { kind: CatalogEntryKind; name: string; known: readonly string[] }> {
  constructor(kind: CatalogEntryKind, entryName: string, known: readonly string[], within?: string) {
    const where = within ? ` of ${within}` : '';
    const choices = known.length > 0 ? known.join(', ') : 'none';
    super(CODES.INVALID_DEFINITION, `The catalog has no ${kind} ${entryName}${where} (known: ${choices})`, { kind, name: entryName, known });
  }
}

/**
 * Definitions the catalog cannot be compiled from: an entity served twice, a mapping naming an
 * entity or lookup that does not exist. A configuration that passed validation (`validateConfig`,
 * `checkReferences`) never raises it; the message says which check was skipped.
 */
export class CatalogDefinitionError extends VirtualizeError<typeof CODES.INVALID_DEFINITION, { problems: readonly string[] }> {
  constructor(readonly problems: readonly string[]) {
    super(
      CODES.INVALID_DEFINITION,
      `The catalog cannot be compiled from these definitions (validate them first: checkReferences reports the same at their paths):\n  - ${problems.join('\n  - ')}`,
      { problems },
    );
  }
}
