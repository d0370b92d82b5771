import type { CacheEntityRecord } from '@envelop/response-cache';
import type { Catalog } from '../catalog/catalog';
import { keyValues } from '../connectors/key-string';
import type { SourceConnector } from '../connectors/source-connector';
import { normalizeKey } from '../connectors/transforms';
import type { MappingStore } from '../mapping/mapping-store';

/** One value of one canonical field: `Order.customerRef = 8812`. */
export interface EntityRef {
  entity: string;
  field: string;
  value: string;
}

const refId = (ref: EntityRef) => `${ref.entity}.${ref.field}=${ref.value}`;

/**
 * Every field value that names the same thing as `ref` in any system, found through the id
 * mappings: crosswalks are followed both ways, field keys too (normalized), and the records found
 * on the way are fetched (from their source, not the cache) to learn their other join fields (a
 * CRM customer's email, say), each in raw and normalized form. Cached entries and answers holding
 * any of these are stale once the thing changes.
 */
export async function identitiesOf(
  ref: EntityRef,
  catalog: Catalog,
  store: MappingStore,
  connectors: ReadonlyMap<string, SourceConnector>,
): Promise<EntityRef[]> {
  const found = new Map<string, EntityRef>([[refId(ref), ref]]);
  const seen = new Set<string>();
  let frontier: EntityRef[] = [ref];
  for (let round = 0; round < 3 && frontier.length > 0; round++) {
    const next: EntityRef[] = [];
    const push = (identity: EntityRef) => {
      const id = refId(identity);
      if (seen.has(id)) return;
      seen.add(id);
      found.set(id, identity);
      next.push(identity);
    };
    for (const current of frontier) {
      seen.add(refId(current));
      for (const { name, definition: mapping } of catalog.mappings.values()) {
        const { from, to, via } = mapping;
        if (via.kind === 'crosswalk') {
          if (to.entity === current.entity && to.field === current.field) {
            for (const value of (await store.reverse(name, [current.value])).get(current.value) ?? []) push({ entity: from.entity, field: from.field, value });
          }
          if (from.entity === current.entity && from.field === current.field) {
            for (const value of (await store.forward(name, [current.value])).get(current.value) ?? []) push({ entity: to.entity, field: to.field, value });
          }
        } else if (via.kind === 'fieldKey') {
          // Both sides hold the same value, compared normalized: look the other side up by it.
          const normalized = normalizeKey(via.normalize, current.value);
          if (to.entity === current.entity && to.field === current.field) push({ entity: from.entity, field: from.field, value: normalized });
          if (from.entity === current.entity && from.field === current.field) push({ entity: to.entity, field: to.field, value: normalized });
        }
      }
      // The record itself: its other fields that mappings join on.
      for (const record of await fetchRecords(current, catalog, connectors)) {
        for (const { definition: mapping } of catalog.mappings.values()) {
          for (const side of [mapping.from, mapping.to]) {
            if (side.entity !== current.entity) continue;
            // A field that holds a list names the thing by each of its values.
            for (const value of keyValues(record[side.field])) {
              push({ entity: side.entity, field: side.field, value });
              if (mapping.via.kind === 'fieldKey') {
                const normalized = { entity: side.entity, field: side.field, value: normalizeKey(mapping.via.normalize, value) };
                found.set(refId(normalized), normalized);
              }
            }
          }
        }
      }
    }
    frontier = next;
  }
  return [...found.values()];
}

/** The values of `refs`, whatever field they are of: what the upstream-call cache is tagged with. */
export function valuesOf(refs: readonly EntityRef[]): string[] {
  return [...new Set(refs.map((ref) => ref.value))];
}

/**
 * The entities `refs` name by their key (`Customer` with id X, from `Customer.id = X`): what
 * answers are indexed by. A ref of another field (`Order.customerRef`) names no entity itself.
 */
export function entitiesOf(refs: readonly EntityRef[], catalog: Catalog): CacheEntityRecord[] {
  return refs.filter((ref) => catalog.entities.get(ref.entity)?.key === ref.field).map((ref) => ({ typename: ref.entity, id: ref.value }));
}

/** Whether `value` is an `EntityRef` (an invalidation received from another replica, say). */
export function isEntityRef(value: unknown): value is EntityRef {
  if (value === null || typeof value !== 'object') return false;
  const ref = value as Record<string, unknown>;
  return typeof ref.entity === 'string' && typeof ref.field === 'string' && typeof ref.value === 'string';
}

/**
 * The records `ref` names, from the source that owns its entity; none when that entity has no
 * lookup by the field. A source that fails throws: the identities it would have named are
 * unknown, so the change must not be reported applied (the sender delivers it again).
 */
async function fetchRecords(ref: EntityRef, catalog: Catalog, connectors: ReadonlyMap<string, SourceConnector>) {
  const lookup = catalog.entities.get(ref.entity)?.lookups.get(ref.field);
  const connector = lookup && connectors.get(lookup.source);
  if (!lookup || !connector) return [];
  const found = (await connector.lookup(lookup.entity, lookup.field, [ref.value])).get(ref.value);
  if (found instanceof Error) throw found;
  return found ?? [];
}
