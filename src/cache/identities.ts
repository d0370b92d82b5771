import type { VirtualizationConfig } from '../config/definition';
import { keyString, type SourceConnector } from '../connectors/source-connector';
import { normalizeKey } from '../connectors/transforms';
import type { MappingStore } from '../mapping/mapping-store';

/** One value of one canonical field: `Order.customerRef = 8812`. */
export interface EntityRef {
  entity: string;
  field: string;
  value: string;
}

/**
 * Every value that names the same thing as `ref` in any system, found through the id mappings:
 * crosswalks are followed both ways, field keys too (normalized), and the records found on the
 * way are fetched (from their source, not the cache) to learn their other join fields (a CRM
 * customer's email, say), each in raw and normalized form. Cached entries and answers holding any of these are stale once
 * the thing changes.
 */
export async function identitiesOf(
  ref: EntityRef,
  config: VirtualizationConfig,
  store: MappingStore,
  connectors: ReadonlyMap<string, SourceConnector>,
): Promise<Set<string>> {
  const values = new Set<string>([ref.value]);
  const seen = new Set<string>();
  let frontier: EntityRef[] = [ref];
  for (let round = 0; round < 3 && frontier.length > 0; round++) {
    const next: EntityRef[] = [];
    const push = (found: EntityRef) => {
      const id = `${found.entity}.${found.field}=${found.value}`;
      if (seen.has(id)) return;
      seen.add(id);
      values.add(found.value);
      next.push(found);
    };
    for (const current of frontier) {
      seen.add(`${current.entity}.${current.field}=${current.value}`);
      for (const [name, mapping] of Object.entries(config.mappings)) {
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
      for (const record of await fetchRecords(current, connectors)) {
        for (const mapping of Object.values(config.mappings)) {
          for (const side of [mapping.from, mapping.to]) {
            if (side.entity !== current.entity) continue;
            const value = keyString(record[side.field]);
            if (value === undefined) continue;
            push({ entity: side.entity, field: side.field, value });
            if (mapping.via.kind === 'fieldKey') values.add(normalizeKey(mapping.via.normalize, value));
          }
        }
      }
    }
    frontier = next;
  }
  return values;
}

async function fetchRecords(ref: EntityRef, connectors: ReadonlyMap<string, SourceConnector>) {
  for (const connector of connectors.values()) {
    const entity = connector.definition.entities[ref.entity];
    if (!entity?.lookups[ref.field]) continue;
    const found = (await connector.lookup(ref.entity, ref.field, [ref.value])).get(ref.value);
    return Array.isArray(found) ? found : [];
  }
  return [];
}
