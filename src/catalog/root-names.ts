import type { EntityDefinition } from '../config/definition';
import type { RootFieldNames } from './catalog-entries';

function lowerFirst(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1);
}

/**
 * The root fields an entity publishes. Defaults: one = camelCase(Entity), many = plural + `ByIds`,
 * list = plural (plural defaults to camelCase(Entity) + `s`); `query` renames or withholds each.
 * `list` needs a list endpoint: without one the field is not published, whatever `query` says.
 * `many` is published with or without a batch endpoint of the key lookup: without one it costs one
 * call per key (bounded by the source's pool, as single lookups are), and the guard predicts that.
 */
export function rootFieldNames(entityName: string, entity: EntityDefinition): RootFieldNames {
  const plural = entity.plural ?? `${lowerFirst(entityName)}s`;
  const one = entity.query?.one ?? lowerFirst(entityName);
  const many = entity.query?.many ?? `${plural}ByIds`;
  const list = entity.query?.list ?? plural;
  return {
    one,
    many,
    list: entity.list ? list : false,
  };
}
