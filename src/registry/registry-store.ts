import { CODES, VirtualizeError } from '../errors';
import type { ApiKeyStore, OperationStore } from '../auth/caller';
import type { MappingStore } from '../mapping/mapping-store';
import type { DiffEntry } from './definition-diff';

/**
 * What the registry holds: the sources and mappings registered at run time, exactly as they were
 * registered (input form, before defaults), and a revision that grows by one with every change.
 * The revision is the schema version every replica reports once it has applied it.
 */
export interface RegistrySnapshot {
  revision: number;
  sources: Record<string, unknown>;
  mappings: Record<string, unknown>;
}

export type EntryKind = 'source' | 'mapping';

/** One entry set (a definition) or removed (null). */
export interface EntryChange {
  kind: EntryKind;
  name: string;
  definition: unknown;
}

/** One line of the audit trail: who, when, what, and the diff. */
export interface AuditEntry {
  /** The registry revision the change produced; null for events that change no definition (an import). */
  revision: number | null;
  /** ISO-8601. */
  at: string;
  /** The admin credential's name. */
  actor: string;
  /** `register`, `update`, `remove`, `registerMapping`, `removeMapping`, `importCrosswalk`. */
  action: string;
  summary: string;
  diff: DiffEntry[];
}

export type AuditRecord = Omit<AuditEntry, 'revision' | 'at'>;

export class RevisionConflictError extends VirtualizeError<typeof CODES.REGISTRY_CONFLICT> {
  constructor(
    readonly expected: number,
    readonly actual: number,
  ) {
    super(CODES.REGISTRY_CONFLICT, `The registry changed meanwhile (revision ${actual}, expected ${expected}): reload and try again`, { revision: actual, expectedRevision: expected });
    this.name = 'RevisionConflictError';
  }
}

/**
 * Where registrations live. The file store serves one replica; the PostgreSQL store serves a
 * fleet, and tells each replica when another one changed something.
 */
export interface RegistryStore {
  /** Where, in words, for status reports: `file .virtualize` or `postgres schema virtualize`. */
  readonly description: string;
  /** The crosswalk pairs imported at run time. */
  readonly mappings: MappingStore;
  /** The trusted-documents manifest (`virtualize operations push`). */
  readonly operations: OperationStore;
  /** Managed API keys (`virtualize keys create`), as digests. */
  readonly apiKeys: ApiKeyStore;
  load(): Promise<RegistrySnapshot>;
  /**
   * Applies the changes and appends the audit entry atomically, if the registry is still at
   * `expectedRevision`; returns the new revision. Throws RevisionConflictError otherwise.
   */
  commit(expectedRevision: number, changes: readonly EntryChange[], audit: AuditRecord): Promise<number>;
  /** Appends an audit entry for an event that changes no definition. */
  record(audit: AuditRecord): Promise<void>;
  /** The latest audit entries, newest first. */
  auditTrail(limit: number): Promise<AuditEntry[]>;
  /** Calls `onChange` whenever the registry may have changed elsewhere (another replica). */
  watch(onChange: () => void): void;
  close(): Promise<void>;
}

/** The entries after `changes`, as a new snapshot body (the input is not modified). */
export function applyChanges(snapshot: RegistrySnapshot, changes: readonly EntryChange[]): Pick<RegistrySnapshot, 'sources' | 'mappings'> {
  const next = { sources: { ...snapshot.sources }, mappings: { ...snapshot.mappings } };
  for (const change of changes) {
    const entries = change.kind === 'source' ? next.sources : next.mappings;
    if (change.definition === null) delete entries[change.name];
    else entries[change.name] = change.definition;
  }
  return next;
}
