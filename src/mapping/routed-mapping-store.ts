import type { MappingStore } from './mapping-store';

/**
 * One mapping store over several: each mapping named in `routes` is answered by its own store,
 * every other by `fallback`. Closing is left to the owners of the stores.
 */
export function routeMappings(routes: ReadonlyMap<string, MappingStore>, fallback: MappingStore): MappingStore {
  if (routes.size === 0) return fallback;
  const storeOf = (mapping: string) => routes.get(mapping) ?? fallback;
  return {
    forward: (mapping, values) => storeOf(mapping).forward(mapping, values),
    reverse: (mapping, values) => storeOf(mapping).reverse(mapping, values),
    add: (mapping, pairs) => storeOf(mapping).add(mapping, pairs),
    load: (mapping, batches) => storeOf(mapping).load(mapping, batches),
    remove: (mapping) => storeOf(mapping).remove(mapping),
    count: (mapping) => storeOf(mapping).count(mapping),
    close: async () => undefined,
  };
}
