import type { VirtualizationConfig } from '../config/definition';
import { CODES } from '../errors';
import type { Entries } from './candidate-checks';
import { RegistryError } from './registry-reports';
import type { EntryChange, RegistrySnapshot } from './registry-store';

/** What a change does to the registry, worked out on the snapshot it will be committed on. */
export type ChangePlan = (snapshot: RegistrySnapshot) => EntryChange[];

/** The names a definition document brings. */
export interface DocumentNames {
  sources: string[];
  mappings: string[];
}

/** The snapshot's entries with a document's laid over them, and the names it brings. */
export function entriesWith(snapshot: RegistrySnapshot, document: unknown): { entries: Entries; names: DocumentNames } {
  const doc = (document ?? {}) as { sources?: unknown; mappings?: unknown };
  const asRecord = (value: unknown): Record<string, unknown> => (value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {});
  if (document === null || typeof document !== 'object' || Array.isArray(document)) {
    throw new RegistryError(CODES.BAD_USER_INPUT, 'a definition is a JSON object with "sources" and/or "mappings", as in virtualization.config.ts');
  }
  const sources = asRecord(doc.sources);
  const mappings = asRecord(doc.mappings);
  const extra = Object.keys(doc).filter((key) => !['sources', 'mappings', '$schema'].includes(key));
  if (extra.length > 0) throw new RegistryError(CODES.BAD_USER_INPUT, `a definition has "sources" and "mappings" only; remove ${extra.map((key) => `"${key}"`).join(', ')}`);
  return {
    entries: { sources: { ...snapshot.sources, ...sources }, mappings: { ...snapshot.mappings, ...mappings } },
    names: { sources: Object.keys(sources), mappings: Object.keys(mappings) },
  };
}

function changesOf(document: unknown, names: DocumentNames): EntryChange[] {
  const doc = document as { sources?: Record<string, unknown>; mappings?: Record<string, unknown> };
  return [
    ...names.sources.map((name): EntryChange => ({ kind: 'source', name, definition: doc.sources![name] })),
    ...names.mappings.map((name): EntryChange => ({ kind: 'mapping', name, definition: doc.mappings![name] })),
  ];
}

/** Registers a document's sources and mappings; every name must be new. */
export function planRegister(document: unknown): ChangePlan {
  return (snapshot) => {
    const { names } = entriesWith(snapshot, document);
    if (names.sources.length === 0 && names.mappings.length === 0) throw new RegistryError(CODES.BAD_USER_INPUT, 'the definition declares no source and no mapping');
    const taken = [...names.sources.filter((n) => n in snapshot.sources), ...names.mappings.filter((n) => n in snapshot.mappings)];
    if (taken.length > 0) throw new RegistryError(CODES.CONFLICT, `already registered: ${taken.join(', ')}; use updateSource (virtualize sources update) to change them`);
    return changesOf(document, names);
  };
}

/** Replaces registered sources (every source named must be registered) and registers or replaces the document's mappings. */
export function planUpdate(document: unknown): ChangePlan {
  return (snapshot) => {
    const { names } = entriesWith(snapshot, document);
    const unknown = names.sources.filter((n) => !(n in snapshot.sources));
    if (unknown.length > 0) throw new RegistryError(CODES.NOT_FOUND, `not registered: ${unknown.join(', ')}; use registerSource (virtualize sources add) for new sources`);
    return changesOf(document, names);
  };
}

export function planRegisterMapping(name: string, mapping: unknown): ChangePlan {
  return (snapshot) => {
    if (name in snapshot.mappings) throw new RegistryError(CODES.CONFLICT, `mapping ${name} is already registered; remove it first`);
    return [{ kind: 'mapping', name, definition: mapping }];
  };
}

/** Removes a registered source; registered mappings that join it go with it only when asked. */
export function planRemoveSource(base: VirtualizationConfig, name: string, withMappings: boolean): ChangePlan {
  return (snapshot) => {
    if (!(name in snapshot.sources)) throw new RegistryError(CODES.NOT_FOUND, name in base.sources ? `source ${name} is declared in virtualization.config.ts, not registered: change it there` : `no source ${name} is registered`);
    // Read from the snapshot, not a catalog: a plan runs against the registry as it is at the
    // moment of writing (another replica may have written since the live generation was built),
    // in its stored input form, and no catalog is compiled for that snapshot. The names of the
    // entities a source declares are all this needs; registration refuses an entity two sources
    // declare, so they are the entities it owns.
    const entities = new Set(Object.keys((snapshot.sources[name] as { entities?: object } | null)?.entities ?? {}));
    const joined = Object.entries(snapshot.mappings)
      .filter(([, mapping]) => {
        const m = mapping as { from?: { entity?: string }; to?: { entity?: string }; via?: { entity?: string } };
        return [m.from?.entity, m.to?.entity, m.via?.entity].some((entity) => entity !== undefined && entities.has(entity));
      })
      .map(([mappingName]) => mappingName);
    if (joined.length > 0 && !withMappings) throw new RegistryError(CODES.CONFLICT, `registered mappings join source ${name}: ${joined.join(', ')}; remove them first, or remove with their mappings (withMappings)`);
    return [{ kind: 'source', name, definition: null }, ...joined.map((mapping): EntryChange => ({ kind: 'mapping', name: mapping, definition: null }))];
  };
}

export function planRemoveMapping(base: VirtualizationConfig, name: string): ChangePlan {
  return (snapshot) => {
    if (!(name in snapshot.mappings)) throw new RegistryError(CODES.NOT_FOUND, name in base.mappings ? `mapping ${name} is declared in virtualization.config.ts, not registered` : `no mapping ${name} is registered`);
    return [{ kind: 'mapping', name, definition: null }];
  };
}
