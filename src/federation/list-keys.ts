/**
 * Join keys that hold a list, in the served schema: a key field joins by each of its values,
 * forward (`MasterRecord.orders` from `shop: [ID!]`) and inverse (`MasterRecord.customers` from
 * `crmIds: [ID!]`, a list itself). What a field holds is read from its declaration and from the
 * canonical schema (which may declare it a list); the joins no answer could make right are refused
 * when the generation is built, as `validate` reports them (`config/list-keys.ts`).
 */
import { Kind, type TypeNode } from 'graphql';
import type { Catalog } from '../catalog/catalog';
import type { CatalogMapping } from '../catalog/catalog-entries';
import type { MappingDefinition } from '../config/definition';
import { declaredKeyShape, listKeyProblems, type KeyFacts, type KeyShape } from '../config/list-keys';
import { InvalidDefinitionError } from '../config/validate';
import { keyString } from '../connectors/key-string';
import type { CanonicalRecord } from '../connectors/record-mapper';
import type { CanonicalSchema } from './canonical-schema';

function isListTypeNode(type: TypeNode): boolean {
  return type.kind === Kind.LIST_TYPE || (type.kind === Kind.NON_NULL_TYPE && type.type.kind === Kind.LIST_TYPE);
}

/** What a field holds in the served schema: its declaration, or a list where the canonical schema types it as one. */
export function servedKeyShape(catalog: Catalog, canonical: CanonicalSchema, entity: string, field: string): KeyShape {
  const declared = declaredKeyShape(catalog.entities.get(entity)?.definition.fields[field]);
  if (declared !== 'value') return declared;
  const node = canonical.field(entity, field);
  return node && isListTypeNode(node.type) ? 'list' : 'value';
}

/** Whether a mapping's inverse field is a list: as the canonical schema declares it, else exactly when `to.field` holds a list. */
export function inverseIsList(catalog: Catalog, canonical: CanonicalSchema, mapping: Pick<MappingDefinition, 'to' | 'inverse'>): boolean {
  if (!mapping.inverse) return false;
  const declared = canonical.field(mapping.to.entity, mapping.inverse.field);
  if (declared) return isListTypeNode(declared.type);
  return servedKeyShape(catalog, canonical, mapping.to.entity, mapping.to.field) === 'list';
}

/** Refuses, all at once, the joins on list-valued keys that the served schema makes impossible to answer right. */
export function checkListKeys(catalog: Catalog, canonical: CanonicalSchema): void {
  const facts: KeyFacts = {
    shape: (entity, field) => servedKeyShape(catalog, canonical, entity, field),
    uniqueLookup: (entity, field) => catalog.entities.get(entity)?.lookups.get(field)?.unique,
    inverseIsList: (mapping) => inverseIsList(catalog, canonical, mapping),
  };
  const problems = [...catalog.mappings.values()].flatMap((mapping: CatalogMapping) => listKeyProblems(mapping.name, mapping.definition, facts));
  if (problems.length > 0) throw new InvalidDefinitionError(problems);
}

/** Records joined through several keys, each once (by the entity's key), in the order found. */
export function distinctRecords(records: readonly CanonicalRecord[], keyField: string): CanonicalRecord[] {
  const seen = new Set<string>();
  return records.filter((record) => {
    const key = keyString(record[keyField]);
    if (key === undefined) return true;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
