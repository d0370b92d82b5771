import { isRepeatedTemplate, type EntityDefinition, type VirtualizationConfig } from './definition';
import { entityOwners } from './entity-owners';
import { declaredKeyShape, listKeyProblems, type KeyFacts } from './list-keys';
import type { DefinitionProblem } from './validate';

/** Checks what the shape alone cannot: that names used in one part of a config exist in another. */
export function checkReferences(config: VirtualizationConfig): DefinitionProblem[] {
  const problems: DefinitionProblem[] = [];
  const { owners: homes, duplicates } = entityOwners(config);
  const entityOf = (name: string) => {
    const home = homes.get(name);
    return home === undefined ? undefined : config.sources[home]?.entities[name];
  };
  const keys: KeyFacts = {
    shape: (entity, field) => declaredKeyShape(entityOf(entity)?.fields[field]),
    uniqueLookup: (entity, field) => entityOf(entity)?.lookups[field]?.unique,
  };

  for (const [sourceName, source] of Object.entries(config.sources)) {
    for (const [entityName, entity] of Object.entries(source.entities)) {
      const at = `sources.${sourceName}.entities.${entityName}`;
      const duplicate = duplicates.find((d) => d.entity === entityName && d.source === sourceName);
      if (duplicate) problems.push({ path: at, message: `entity ${entityName} is already served by source "${duplicate.owner}"; give one of them another name` });
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
      problems.push(...checkEndpoints(at, entity));
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
    problems.push(...listKeyProblems(mappingName, mapping, keys));
    if (mapping.via.kind === 'service') problems.push(...checkServiceCrosswalk(config, homes, `${at}.via`, mapping.via, mapping.inverse !== undefined));
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
          if (aggregate.requireSame !== undefined) {
            if (aggregate.op === 'count' || aggregate.op === 'single') problems.push({ path: `${at}.forward.summaries.${path}.requireSame`, message: `"${aggregate.op}" takes no requireSame: it applies to sum, min and max` });
            need(`${at}.forward.summaries.${path}.requireSame`, aggregate.requireSame);
          }
        }
      }
    }
  }
  return problems;
}

/** The placeholders a template uses, e.g. `{values}` in `{ "ids": "{values}" }`. */
function placeholders(...templates: unknown[]): Set<string> {
  const found = new Set<string>();
  for (const template of templates) for (const match of JSON.stringify(template ?? '').matchAll(/\{(\w+)\}/g)) found.add(match[1]!);
  return found;
}

/** Whether a query or body holds a template repeated once per key. */
function sendsKeysRepeated(...templates: unknown[]): boolean {
  const visit = (template: unknown): boolean =>
    isRepeatedTemplate(template) || (template !== null && typeof template === 'object' && Object.values(template).some(visit));
  return templates.some(visit);
}

/** Each endpoint says where its keys go, sends a body only by POST, and asks for properties only when the entity names them. */
function checkEndpoints(at: string, entity: EntityDefinition): DefinitionProblem[] {
  const problems: DefinitionProblem[] = [];
  const endpoints = [
    ...Object.entries(entity.lookups).map(([field, lookup]) => [`${at}.lookups.${field}`, lookup] as const),
    ...(entity.list ? [[`${at}.list`, entity.list] as const] : []),
  ];
  for (const [path, endpoint] of endpoints) {
    if (endpoint.method === 'GET' && endpoint.body !== undefined) {
      problems.push({ path: `${path}.body`, message: 'a body is sent only with method POST: set method to "POST", or put the values in query', expected: 'method "POST"', found: 'method "GET"' });
    }
    const used = placeholders(endpoint.path, endpoint.query, endpoint.body);
    if (used.has('properties') && !entity.properties) {
      problems.push({ path, message: '{properties} needs the entity to say where properties live: add properties: {} (or { under: "properties" }) to the entity' });
    }
    if ('unique' in endpoint) {
      const wanted = endpoint.batch ? 'values' : 'value';
      // A batch also sends its keys through a template repeated per key (`[{ "id": "{value}" }]`, `["{value}"]`).
      if (!used.has(wanted) && !(endpoint.batch && sendsKeysRepeated(endpoint.query, endpoint.body))) {
        problems.push({
          path,
          message: endpoint.batch
            ? 'a batch lookup must send its keys: put {values} in its path, query or body, or repeat a template per key (body [{ "id": "{value}" }], query ["{value}"])'
            : 'a lookup without batch must send its key: put {value} in its path, query or body',
          expected: `{${wanted}} in path, query or body`,
          found: used.size > 0 ? [...used].map((name) => `{${name}}`).join(', ') : 'no placeholder',
        });
      }
    }
  }
  return problems;
}

/** A crosswalk served by a master-data entity needs that entity, its two fields, and the lookups each way it is used. */
function checkServiceCrosswalk(
  config: VirtualizationConfig,
  homes: ReadonlyMap<string, string>,
  at: string,
  via: { entity: string; from: string; to: string },
  inverse: boolean,
): DefinitionProblem[] {
  const home = homes.get(via.entity);
  if (!home) return [{ path: `${at}.entity`, message: `no source serves an entity named ${via.entity} (known: ${[...homes.keys()].join(', ')})` }];
  const entity = config.sources[home]!.entities[via.entity]!;
  const problems: DefinitionProblem[] = [];
  for (const side of ['from', 'to'] as const) {
    if (!(via[side] in entity.fields)) problems.push({ path: `${at}.${side}`, message: `"${via[side]}" is not a mapped field of ${via.entity}` });
  }
  if (!entity.lookups[via.from]) problems.push({ path: `${at}.from`, message: `${via.entity} has no lookup by "${via.from}": declare lookups.${via.from} (ideally a batch one) to find the partners of a value` });
  if (inverse && !entity.lookups[via.to]) problems.push({ path: `${at}.to`, message: `${via.entity} has no lookup by "${via.to}": declare lookups.${via.to}, or drop the inverse join` });
  return problems;
}
