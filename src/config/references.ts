import type { VirtualizationConfig } from './definition';
import type { DefinitionProblem } from './validate';

/** Checks what the shape alone cannot: that names used in one part of a config exist in another. */
export function checkReferences(config: VirtualizationConfig): DefinitionProblem[] {
  const problems: DefinitionProblem[] = [];
  const homes = new Map<string, string>();

  for (const [sourceName, source] of Object.entries(config.sources)) {
    for (const [entityName, entity] of Object.entries(source.entities)) {
      const at = `sources.${sourceName}.entities.${entityName}`;
      const other = homes.get(entityName);
      if (other) problems.push({ path: at, message: `entity ${entityName} is already served by source "${other}"; give one of them another name` });
      homes.set(entityName, sourceName);
      const fields = Object.keys(entity.fields);
      if (!fields.includes(entity.key)) problems.push({ path: `${at}.key`, message: `key "${entity.key}" is not one of the mapped fields (${fields.join(', ')})` });
      const keyLookup = entity.lookups[entity.key];
      if (!keyLookup) problems.push({ path: `${at}.lookups`, message: `declare a lookup for the key field "${entity.key}" (how to fetch one or many ${entityName} by ${entity.key})` });
      else if (!keyLookup.unique) problems.push({ path: `${at}.lookups.${entity.key}.unique`, message: 'the lookup by the key must be unique: true' });
      for (const lookupField of Object.keys(entity.lookups)) {
        if (!fields.includes(lookupField)) problems.push({ path: `${at}.lookups.${lookupField}`, message: `"${lookupField}" is not a mapped field of ${entityName}` });
      }
      for (const [arg, filter] of Object.entries(entity.list?.filters ?? {})) {
        if (!fields.includes(filter.field)) problems.push({ path: `${at}.list.filters.${arg}.field`, message: `"${filter.field}" is not a mapped field of ${entityName}` });
      }
    }
  }

  for (const [mappingName, mapping] of Object.entries(config.mappings)) {
    const at = `mappings.${mappingName}`;
    const side = (name: 'from' | 'to') => {
      const ref = mapping[name];
      const sourceName = homes.get(ref.entity);
      if (!sourceName) {
        problems.push({ path: `${at}.${name}.entity`, message: `no source serves an entity named ${ref.entity} (known: ${[...homes.keys()].join(', ')})` });
        return undefined;
      }
      const entity = config.sources[sourceName]!.entities[ref.entity]!;
      if (!(ref.field in entity.fields)) problems.push({ path: `${at}.${name}.field`, message: `"${ref.field}" is not a mapped field of ${ref.entity}` });
      return entity;
    };
    const from = side('from');
    const to = side('to');
    if (to && !to.lookups[mapping.to.field]) {
      problems.push({ path: `${at}.to.field`, message: `${mapping.to.entity} has no lookup by "${mapping.to.field}": declare lookups.${mapping.to.field} so that ${mapping.forward.field} can be fetched` });
    }
    if (from && mapping.inverse && !from.lookups[mapping.from.field]) {
      problems.push({ path: `${at}.from.field`, message: `${mapping.from.entity} has no lookup by "${mapping.from.field}": declare lookups.${mapping.from.field} so that ${mapping.inverse.field} can be fetched` });
    }
    if (to) {
      const toFields = Object.keys(to.fields);
      const need = (path: string, field: string | undefined) => {
        if (field !== undefined && !toFields.includes(field)) problems.push({ path, message: `"${field}" is not a mapped field of ${mapping.to.entity}` });
      };
      need(`${at}.forward.orderBy.field`, mapping.forward.orderBy?.field);
      for (const [arg, def] of Object.entries(mapping.forward.args ?? {})) if ('filter' in def) need(`${at}.forward.args.${arg}.filter`, def.filter);
      for (const [name, summary] of Object.entries(mapping.forward.summaries ?? {})) {
        const aggregates = 'fields' in summary ? Object.entries(summary.fields).map(([f, a]) => [`${name}.fields.${f}`, a] as const) : [[name, summary] as const];
        for (const [path, aggregate] of aggregates) {
          if (aggregate.op !== 'count' && !aggregate.field) problems.push({ path: `${at}.forward.summaries.${path}.field`, message: `"${aggregate.op}" needs the field it aggregates` });
          need(`${at}.forward.summaries.${path}.field`, aggregate.field);
          for (const where of Object.keys(aggregate.where ?? {})) need(`${at}.forward.summaries.${path}.where.${where}`, where);
        }
      }
    }
  }
  return problems;
}
