import type { EntityDefinition } from '../config/definition';
import type { RootFieldNames } from './catalog-entries';

function lowerFirst(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1);
}

/**
 * The root fields an entity publishes. Defaults: one = camelCase(Entity), many = plural + `ByIds`,
 * list = plural (plural defaults to camelCase(Entity) + `s`); `query` renames or withholds each.
 * `many` needs a batch endpoint of the key lookup and `list` a list endpoint: without them the
 * field is not published, whatever `query` says.
 */
export function rootFieldNames(entityName: string, entity: EntityDefinition): RootFieldNames {
  const plural = entity.plural ?? `${lowerFirst(entityName)}s`;
  const one = entity.query?.one ?? lowerFirst(entityName);
  const many = entity.query?.many ?? `${plural}ByIds`;
  const list = entity.query?.list ?? plural;
  return {
    one,
    many: entity.lookups[entity.key]?.batch ? many : false,
    list: entity.list ? list : false,
  };
}
