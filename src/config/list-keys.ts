/**
 * Key fields that hold a list (`shop: [ID!]`, the order accounts of a golden record) join by each
 * element: the joined records are the union of the partners of every element. This module says
 * what a field holds, and refuses the joins on list-valued keys that no answer could make right,
 * each with its path and what to do instead.
 */
import type { FieldMapping, MappingDefinition } from './definition';
import type { DefinitionProblem } from './problems';

/** What a field holds: one value, a list of values, or a list of objects (`items`), which is no key. */
export type KeyShape = 'value' | 'list' | 'objects';

/** A GraphQL type reference that is a list (`[ID!]`, `[String]!`). */
export function isListTypeRef(typeRef: string): boolean {
  return typeRef.trimStart().startsWith('[');
}

/** What a field holds by its declaration: `items` is objects, a `type` such as `[ID!]` a list. */
export function declaredKeyShape(mapping: FieldMapping | undefined): KeyShape {
  if (mapping === undefined || typeof mapping === 'string') return 'value';
  if (mapping.items) return 'objects';
  return mapping.type !== undefined && isListTypeRef(mapping.type) ? 'list' : 'value';
}

/** What the checks need to know of the entities a mapping names. */
export interface KeyFacts {
  /** What `entity.field` holds; `value` when it is unknown (the references check reports that). */
  shape(entity: string, field: string): KeyShape;
  /** Whether the entity's lookup by the field is unique; undefined without such a lookup. */
  uniqueLookup(entity: string, field: string): boolean | undefined;
  /**
   * Whether the inverse join field is a list: known once the canonical schema is read (it may
   * declare the field); undefined lets the join decide (a list exactly when `to.field` is one).
   */
  inverseIsList?(mapping: MappingDefinition): boolean | undefined;
}

/**
 * The joins on list-valued keys the engine cannot answer right, refused:
 * - a key that holds objects: a join compares values;
 * - an inverse that names one record (`Order.master`) from a list-valued `from` field whose lookup
 *   is not unique: several records may hold the value, and one would be picked silently;
 * - an inverse that the canonical schema declares as one record while `to.field` holds a list:
 *   a record with two values has two partners.
 */
export function listKeyProblems(name: string, mapping: MappingDefinition, facts: KeyFacts): DefinitionProblem[] {
  const at = `mappings.${name}`;
  const problems: DefinitionProblem[] = [];
  const objects = (path: string, entity: string, field: string) =>
    problems.push({
      path,
      message: `${entity}.${field} holds objects (items), and a join compares key values: join on a field that holds a value or a list of values (type: "[ID!]")`,
    });
  for (const side of ['from', 'to'] as const) {
    const { entity, field } = mapping[side];
    if (facts.shape(entity, field) === 'objects') objects(`${at}.${side}.field`, entity, field);
  }
  const via = mapping.via;
  if (via.kind === 'service') {
    for (const side of ['from', 'to'] as const) if (facts.shape(via.entity, via[side]) === 'objects') objects(`${at}.via.${side}`, via.entity, via[side]);
  }
  const inverse = mapping.inverse;
  if (!inverse) return problems;
  const { from, to } = mapping;
  const toIsList = facts.shape(to.entity, to.field) === 'list';
  const inverseIsList = facts.inverseIsList?.(mapping) ?? toIsList;
  if (toIsList && !inverseIsList) {
    problems.push({
      path: `${at}.inverse.field`,
      message:
        `${to.entity}.${to.field} holds a list, so one ${to.entity} joins to a ${from.entity} for each of its values, but schema/ declares ` +
        `${to.entity}.${inverse.field} as one ${from.entity}: declare it [${from.entity}!] in schema/, or drop the inverse`,
    });
  }
  if (!inverseIsList && facts.shape(from.entity, from.field) === 'list' && facts.uniqueLookup(from.entity, from.field) === false) {
    problems.push({
      path: `${at}.inverse`,
      message:
        `${from.entity}.${from.field} holds a list and the lookup of ${from.entity} by ${from.field} is not unique, so several ${from.entity} records may hold ` +
        `the same value while ${to.entity}.${inverse.field} names one: declare lookups.${from.field}.unique: true when each value is in at most one ${from.entity}, or drop the inverse`,
    });
  }
  return problems;
}
