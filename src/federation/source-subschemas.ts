import type { SubschemaConfig } from '@graphql-tools/delegate';
import { GraphQLError, print, type FieldDefinitionNode } from 'graphql';
import type { Catalog } from '../catalog/catalog';
import type { CatalogEntity, CatalogMapping } from '../catalog/catalog-entries';
import type { AggregateDefinition, FieldMapping } from '../config/definition';
import { ForeignCursorError } from '../connectors/errors';
import { CODES, toGraphQLError, VirtualizeError } from '../errors';
import { keyValues } from '../connectors/key-string';
import type { CanonicalRecord } from '../connectors/record-mapper';
import { normalizeKey } from '../connectors/transforms';
import type { CanonicalSchema } from './canonical-schema';
import { checkListKeys, distinctRecords, inverseIsList } from './list-keys';
import { federationContext, type FederationContext } from './request-context';
import { asGraphQLError, namedTypeOf, SubschemaBuilder } from './subschema-builder';

/** Prefix of root fields that only type merging uses; they are removed from the public schema. */
export const INTERNAL_FIELD_PREFIX = '_';

function upperFirst(name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1);
}

function describe(text: string | undefined): string {
  return text ? `${JSON.stringify(text)} ` : '';
}

function mappingObject(mapping: FieldMapping): Exclude<FieldMapping, string> {
  return typeof mapping === 'string' ? { from: mapping } : mapping;
}

/** The GraphQL type a mapped field has when the canonical schema does not define it. */
function declaredType(builder: SubschemaBuilder, entity: string, field: string, mapping: FieldMapping): string {
  const m = mappingObject(mapping);
  if (m.type) return m.type;
  if (m.items) {
    const itemFields = Object.entries(m.items.fields)
      .map(([name, item]) => `  ${describe(mappingObject(item).description)}${name}: ${declaredType(builder, m.items!.type, name, item)}`)
      .join('\n');
    builder.addType(m.items.type, `${describe(m.items.description)}type ${m.items.type} {\n${itemFields}\n}`);
    return `[${m.items.type}!]`;
  }
  const transform = m.transform;
  if (transform !== undefined && typeof transform === 'object') {
    const enumName = `${entity}${upperFirst(field)}`;
    const values = [...new Set(Object.values(transform.enum))].join('\n  ');
    builder.addType(enumName, `enum ${enumName} {\n  ${values}\n}`);
    return enumName;
  }
  switch (transform) {
    case 'int':
      return 'Int';
    case 'float':
    case 'minorUnits':
      return 'Float';
    case 'boolean':
      return 'Boolean';
    case 'id':
      return 'ID';
    case 'epochSeconds':
    case 'epochMillis':
    case 'dateTime':
      builder.addType('DateTime', '"An instant in time as an ISO-8601 string in UTC." scalar DateTime');
      return 'DateTime';
    default:
      return 'String';
  }
}

function fieldSdl(node: FieldDefinitionNode): string {
  return print(node);
}

interface Plan {
  catalog: Catalog;
  canonical: CanonicalSchema;
  builders: Map<string, SubschemaBuilder>;
  /** `Type.field` of fields that only joins need (not in the canonical schema of a canonical type). */
  internalFields: Set<string>;
  /** Key fields each contributed type needs, per `source.Type`; filled while joins are added. */
  contributedKeys: Map<string, Set<string>>;
}

function addEntity(plan: Plan, catalogEntity: CatalogEntity): void {
  const { name: entityName, source: sourceName, definition: entity, roots, keyLoader } = catalogEntity;
  const builder = plan.builders.get(sourceName)!;
  const canonicalType = plan.canonical.object(entityName);
  // Created first, so that a type the canonical schema does not describe keeps its declared description.
  builder.object(entityName, entity.description);
  for (const [fieldName, mapping] of Object.entries(entity.fields)) {
    const canonicalField = plan.canonical.field(entityName, fieldName);
    if (canonicalField) {
      builder.addField(entityName, fieldName, { sdl: fieldSdl(canonicalField) });
      continue;
    }
    if (canonicalType) plan.internalFields.add(`${entityName}.${fieldName}`);
    const type = declaredType(builder, entityName, fieldName, mapping);
    const nonNull = fieldName === entity.key && !type.endsWith('!') ? '!' : '';
    const description = mappingObject(mapping).description ?? `${entityName} ${fieldName}, as ${sourceName} calls it \`${mappingObject(mapping).from}\`.`;
    builder.addField(entityName, fieldName, { sdl: `${describe(description)}${fieldName}: ${type}${nonNull}` });
  }

  const keyType = namedTypeOf(plan.canonical.field(entityName, entity.key) ? print(plan.canonical.field(entityName, entity.key)!.type) : 'ID');
  const canonicalRoot = (name: string) => plan.canonical.field('Query', name);

  // A canonical root field names its own argument (`customer(id:)`); a generated one uses the key's name.
  const argName = (name: string, fallback: string) => canonicalRoot(name)?.arguments?.[0]?.name.value ?? fallback;
  if (roots.one !== false) {
    const name = roots.one;
    const arg = argName(name, entity.key);
    builder.addField('Query', name, {
      sdl: canonicalRoot(name) ? fieldSdl(canonicalRoot(name)!) : `${describe(`One ${entityName} by ${entity.key}; null when there is none.`)}${name}(${arg}: ${keyType}!): ${entityName}`,
      resolve: (_parent, args, context) => federationContext(context).loaders.loadOne(keyLoader, String(args[arg])),
    });
  }
  if (roots.many !== false) {
    const name = roots.many;
    const arg = argName(name, `${entity.key}s`);
    builder.addField('Query', name, {
      sdl: canonicalRoot(name) ? fieldSdl(canonicalRoot(name)!) : `${describe(`${entityName} records by ${entity.key}, in the order asked; null for each that does not exist, and null as a whole when ${sourceName} failed.`)}${name}(${arg}: [${keyType}!]!): [${entityName}]`,
      resolve: async (_parent, args, context) => {
        const keys = (args[arg] as unknown[]).map(String);
        const found = await federationContext(context).loaders.loadEach(keyLoader, keys);
        return found.map(firstOrError);
      },
    });
  }
  if (roots.list !== false) addList(plan, builder, catalogEntity, roots.list);

  // The entry point through which stitching completes a partially known record of this entity.
  const mergeField = `${INTERNAL_FIELD_PREFIX}${sourceName}_${entityName}`;
  builder.addField('Query', mergeField, {
    sdl: `${mergeField}(keys: [String!]!): [${entityName}]!`,
    resolve: async (_parent, args, context) => {
      const found = await federationContext(context).loaders.loadEach(keyLoader, args.keys as string[]);
      return found.map(firstOrError);
    },
  });
  builder.addMerge(entityName, {
    selectionSet: `{ ${entity.key} }`,
    fieldName: mergeField,
    key: (record: Record<string, unknown>) => String(record[entity.key]),
    argsFromKeys: (keys: readonly string[]) => ({ keys }),
  });
}

/** The one record of a unique lookup, null when there is none, or the error of the call that failed for it (that item alone). */
function firstOrError(result: CanonicalRecord[] | Error): unknown {
  return result instanceof Error ? asGraphQLError(result) : (result[0] ?? null);
}

function addList(plan: Plan, builder: SubschemaBuilder, catalogEntity: CatalogEntity, name: string): void {
  const { name: entityName, definition: entity } = catalogEntity;
  const list = catalogEntity.list!;
  const connection = `${entityName}Connection`;
  if (!plan.canonical.type(connection)) {
    builder.addType(
      connection,
      `${describe(`A page of ${entityName} records.`)}type ${connection} {\n  "The records on this page." nodes: [${entityName}!]!\n  "Where this page ends and whether another follows." pageInfo: PageInfo!\n  "How many records match in all, when the source tells." totalCount: Int\n}`,
    );
  }
  if (!plan.canonical.type('PageInfo')) {
    builder.addType('PageInfo', '"Cursor paging information." type PageInfo {\n  "True when another page follows." hasNextPage: Boolean!\n  "Pass as `after` for the next page." endCursor: String\n}');
  }
  const filters = list.filters;
  const canonicalField = plan.canonical.field('Query', name);
  let sdl: string;
  if (canonicalField) sdl = fieldSdl(canonicalField);
  else {
    const filterArgs = [...filters].map(([arg, filter]) => {
      const fieldType = declaredType(builder, entityName, filter.field, entity.fields[filter.field]!);
      const canonical = plan.canonical.field(entityName, filter.field);
      return `${arg}: ${namedTypeOf(canonical ? print(canonical.type) : fieldType)}`;
    });
    sdl = `${describe(`A page of ${entityName} records; null when ${catalogEntity.source} failed.`)}${name}(first: Int = 20, after: String${filterArgs.map((a) => `, ${a}`).join('')}): ${connection}`;
  }
  builder.addField('Query', name, {
    sdl,
    resolve: async (_parent, args, context) => {
      const first = typeof args.first === 'number' ? args.first : 20;
      if (first < 0 || first > list.maxFirst) {
        throw badArgument('first', `"first" must be between 0 and ${list.maxFirst} (got ${first}); page through larger sets with "after"`);
      }
      const filterValues: Record<string, string> = {};
      for (const arg of filters.keys()) if (typeof args[arg] === 'string') filterValues[arg] = args[arg] as string;
      const after = typeof args.after === 'string' ? args.after : null;
      const page = await federationContext(context)
        .loaders.list(list, { first, after, filters: filterValues })
        .catch((error: unknown) => {
          throw error instanceof ForeignCursorError ? foreignCursor() : error;
        });
      return {
        nodes: page.records,
        pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.nextCursor },
        totalCount: page.totalCount,
      };
    },
  });
}

/** The client wrote the cursor, so the client hears a cursor the list never issued as bad input. */
function foreignCursor(): GraphQLError {
  return badArgument('after', '"after" is not a cursor this API issued: pass pageInfo.endCursor of the previous page, or leave "after" out to start from the beginning');
}

/** An argument value out of its range: the caller's mistake, at the field that takes it (the rest of the answer is served). */
function badArgument(argument: string, message: string): GraphQLError {
  return toGraphQLError(new VirtualizeError(CODES.BAD_USER_INPUT, message, { argument }), { phase: 'field' });
}

/** The stand-in a join field's resolvers receive in a source that does not own the type: the key values stitching fetched for them. */
interface JoinParent {
  __key: Record<string, unknown>;
}

/**
 * What a join reads of its parent: the key values stitching fetched (`JoinParent`), or, where the
 * source owns the parent's entity too (users and their tickets in one help desk), the record itself.
 */
function parentKey(parent: unknown, field: string): unknown {
  const object = parent as Partial<JoinParent> & CanonicalRecord;
  return object.__key ? object.__key[field] : object[field];
}

/**
 * The records each join found for a parent, per request, by mapping: every field that reads them
 * (`orders` and `orderSummary`) shares one lookup, as it shares one parent within one delegation.
 * Kept beside the parent rather than on it: an owned parent is a record the loaders may share.
 */
const relatedByRequest = new WeakMap<FederationContext, WeakMap<object, Map<string, Promise<CanonicalRecord[]>>>>();

/**
 * A type that a source does not own but adds fields to (the orders source adds `orders` to
 * `Customer`). Stitching hands it the key fields its joins need, whatever the client selected,
 * through one batched merge field.
 */
function contributedType(plan: Plan, builder: SubschemaBuilder, typeName: string, keyField: string): void {
  // A type of the source's own: its records reach the join with every field (`addEntity` merges them).
  if (plan.catalog.entity(typeName).source === builder.source) return;
  const mergeField = `${INTERNAL_FIELD_PREFIX}${builder.source}_${typeName}`;
  const existing = plan.contributedKeys.get(`${builder.source}.${typeName}`);
  if (existing) {
    existing.add(keyField);
    return;
  }
  const keys = new Set([keyField]);
  let keyFields: string[] | undefined;
  plan.contributedKeys.set(`${builder.source}.${typeName}`, keys);
  builder.addField('Query', mergeField, {
    sdl: `${mergeField}(keys: [String!]!): [${typeName}]!`,
    resolve: (_parent, args) => (args.keys as string[]).map((key): JoinParent => ({ __key: JSON.parse(key) as Record<string, unknown> })),
  });
  builder.addMerge(typeName, {
    // Read when the schema is stitched, after every join has added the key fields it needs.
    get selectionSet() {
      return `{ ${[...keys].join(' ')} }`;
    },
    fieldName: mergeField,
    key: (record: Record<string, unknown>) => {
      // Every join has added its key fields by the time a request runs.
      const fields = (keyFields ??= [...keys]);
      return JSON.stringify(Object.fromEntries(fields.map((field) => [field, record[field] ?? null])));
    },
    argsFromKeys: (keyList: readonly string[]) => ({ keys: keyList }),
  });
}

/** Orders numbers by value and everything else (ISO dates included) as text. */
function compareValues(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;
}

function aggregate(records: readonly CanonicalRecord[], definition: AggregateDefinition): unknown {
  const where = definition.where ? Object.entries(definition.where) : undefined;
  const matching = where ? records.filter((record) => where.every(([field, values]) => values.includes(String(record[field])))) : records;
  if (definition.op === 'count') return matching.length;
  const values = matching.map((record) => record[definition.field!]).filter((value) => value !== null && value !== undefined);
  if (values.length === 0) return null;
  // Records that disagree on what their values are measured in (a currency) have no sum, min or
  // max; judged as `single` judges the unit itself, so that a total is null exactly when its currency is.
  const unit = definition.requireSame;
  if (unit !== undefined && aggregate(matching, { op: 'single', field: unit }) === null) return null;
  switch (definition.op) {
    case 'sum':
      // Rounded to drop binary floating-point noise (0.1 + 0.2); amounts here have few decimals.
      return Math.round(values.reduce((sum: number, value) => sum + Number(value), 0) * 1e6) / 1e6;
    case 'min':
      return values.reduce((a, b) => (compareValues(b, a) < 0 ? b : a));
    case 'max':
      return values.reduce((a, b) => (compareValues(b, a) > 0 ? b : a));
    case 'single':
      return values.every((value) => value === values[0]) ? values[0] : null;
  }
}

function addJoin(plan: Plan, join: CatalogMapping): void {
  const { name: mappingName, definition: mapping } = join;
  const fromSource = join.from.source;
  const toSource = join.to.source;
  const toEntity = plan.catalog.entity(join.to.entity).definition;
  const forwardLoader = join.forward.loader;

  // Forward (Customer.orders): lives in the "to" source, which can fetch the records.
  const forwardBuilder = plan.builders.get(toSource)!;
  contributedType(plan, forwardBuilder, mapping.from.entity, mapping.from.field);
  // A key that holds a list joins by each of its values: the union of their partners, each once.
  const fetchRelated = async (parent: unknown, ctx: FederationContext): Promise<CanonicalRecord[]> => {
    const values = keyValues(parentKey(parent, mapping.from.field));
    if (values.length === 0) return [];
    const targets = await partnerKeys(ctx, join, 'forward', values);
    const groups = await ctx.loaders.loadMany(forwardLoader, targets);
    return distinctRecords(groups.flat(), toEntity.key);
  };
  // Shared by the fields of one parent; callers copy before they filter, sort or slice.
  const relatedRecords = (parent: unknown, context: unknown): Promise<CanonicalRecord[]> => {
    const ctx = federationContext(context);
    let parents = relatedByRequest.get(ctx);
    if (!parents) relatedByRequest.set(ctx, (parents = new WeakMap()));
    let related = parents.get(parent as object);
    if (!related) parents.set(parent as object, (related = new Map()));
    let records = related.get(mappingName);
    if (!records) {
      records = fetchRelated(parent, ctx);
      related.set(mappingName, records);
    }
    return records;
  };
  const forward = mapping.forward;
  const forwardArgs = Object.entries(forward.args ?? {});
  const canonicalForward = plan.canonical.field(mapping.from.entity, forward.field);
  const argSdl = forwardArgs
    .map(([arg, def]) => {
      if ('slice' in def) return `${arg}: Int`;
      const canonical = plan.canonical.field(mapping.to.entity, def.filter);
      return `${arg}: ${namedTypeOf(canonical ? print(canonical.type) : declaredType(forwardBuilder, mapping.to.entity, def.filter, toEntity.fields[def.filter]!))}`;
    })
    .join(', ');
  forwardBuilder.addField(mapping.from.entity, forward.field, {
    sdl: canonicalForward
      ? fieldSdl(canonicalForward)
      : `${describe(forward.description ?? `${mapping.to.entity} records joined through ${mappingName}; empty when there are none, null when the source failed.`)}${forward.field}${argSdl ? `(${argSdl})` : ''}: [${mapping.to.entity}!]`,
    resolve: async (parent, args, context) => {
      let records = await relatedRecords(parent, context);
      for (const [arg, def] of forwardArgs) {
        const value = args[arg];
        if (value === undefined || value === null) continue;
        if ('filter' in def) records = records.filter((record) => record[def.filter] === value);
      }
      if (forward.orderBy) {
        const { field, direction } = forward.orderBy;
        const sign = direction === 'asc' ? 1 : -1;
        records = [...records].sort((a, b) => sign * compareValues(a[field], b[field]));
      }
      for (const [arg, def] of forwardArgs) {
        const value = args[arg];
        if ('slice' in def && typeof value === 'number') {
          if (value < 0) throw badArgument(arg, `"${arg}" must not be negative (got ${value})`);
          records = records.slice(0, value);
        }
      }
      return records;
    },
  });
  for (const [summaryName, summary] of Object.entries(forward.summaries ?? {})) {
    const canonicalSummary = plan.canonical.field(mapping.from.entity, summaryName);
    let sdl: string;
    if (canonicalSummary) sdl = fieldSdl(canonicalSummary);
    else if ('fields' in summary) {
      const body = Object.entries(summary.fields)
        .map(([name, def]) => `  ${describe(def.description)}${name}: ${def.op === 'count' ? 'Int!' : def.op === 'sum' ? 'Float' : declaredType(forwardBuilder, mapping.to.entity, def.field!, toEntity.fields[def.field!]!)}`)
        .join('\n');
      forwardBuilder.addType(summary.type, `${describe(summary.description)}type ${summary.type} {\n${body}\n}`);
      sdl = `${describe(summary.description)}${summaryName}: ${summary.type}`;
    } else {
      sdl = `${describe(summary.description)}${summaryName}: ${summary.op === 'count' ? 'Int' : 'Float'}`;
    }
    let summarize: (records: readonly CanonicalRecord[]) => unknown;
    if ('fields' in summary) {
      const fields = Object.entries(summary.fields);
      summarize = (records) => Object.fromEntries(fields.map(([name, def]) => [name, aggregate(records, def)]));
    } else summarize = (records) => aggregate(records, summary);
    forwardBuilder.addField(mapping.from.entity, summaryName, {
      sdl,
      resolve: async (parent, _args, context) => summarize(await relatedRecords(parent, context)),
    });
  }

  // Inverse (Order.customer): lives in the "from" source, which can fetch the one record.
  if (mapping.inverse && join.inverse) {
    const inverseLoader = join.inverse.loader;
    const inverseBuilder = plan.builders.get(fromSource)!;
    contributedType(plan, inverseBuilder, mapping.to.entity, mapping.to.field);
    const canonicalInverse = plan.canonical.field(mapping.to.entity, mapping.inverse.field);
    // From a `to` field that holds a list, every value's partner: the inverse is a list too.
    const many = inverseIsList(plan.catalog, plan.canonical, mapping);
    const fromKey = plan.catalog.entity(join.from.entity).key;
    const generated = many
      ? `${describe(mapping.inverse.description ?? `The ${mapping.from.entity} records joined through ${mappingName}, one for each value of ${mapping.to.field} that has one; null when the source failed.`)}${mapping.inverse.field}: [${mapping.from.entity}!]`
      : `${describe(mapping.inverse.description ?? `The ${mapping.from.entity} joined through ${mappingName}; null when there is none.`)}${mapping.inverse.field}: ${mapping.from.entity}`;
    inverseBuilder.addField(mapping.to.entity, mapping.inverse.field, {
      sdl: canonicalInverse ? fieldSdl(canonicalInverse) : generated,
      resolve: async (parent, _args, context) => {
        const values = keyValues(parentKey(parent, mapping.to.field));
        const ctx = federationContext(context);
        const keys = await partnerKeys(ctx, join, 'reverse', values);
        if (many) return distinctRecords((await ctx.loaders.loadMany(inverseLoader, keys)).flat(), fromKey);
        // One record: the partner of the one value (a list-valued `from` field's lookup is unique, or refused).
        return keys[0] === undefined ? null : ctx.loaders.loadOne(inverseLoader, keys[0]);
      },
    });
  }
}

/**
 * The keys a join looks up for the values of one parent's key field (one value, or each element
 * of a list): the values themselves normalized for a field key, else their partners in the
 * crosswalk or master-data service; each once, in the order of the values.
 */
async function partnerKeys(ctx: FederationContext, join: CatalogMapping, direction: 'forward' | 'reverse', values: readonly string[]): Promise<string[]> {
  if (join.kind === 'fieldKey') return [...new Set(values.map((value) => normalizeKey(join.normalize, value)))];
  return ctx.crosswalks.partnersOfEach(join.name, direction, values);
}

export interface SourceSubschemas {
  subschemas: SubschemaConfig[];
  internalFields: Set<string>;
}

/** One subschema per source, with the join fields each source can resolve, ready for stitching. */
export function buildSourceSubschemas(catalog: Catalog, canonical: CanonicalSchema): SourceSubschemas {
  const plan: Plan = {
    catalog,
    canonical,
    builders: new Map([...catalog.sources.keys()].map((name) => [name, new SubschemaBuilder(name, canonical)])),
    internalFields: new Set(),
    contributedKeys: new Map(),
  };
  checkListKeys(catalog, canonical);
  for (const entity of catalog.entities.values()) addEntity(plan, entity);
  for (const mapping of catalog.mappings.values()) addJoin(plan, mapping);
  return { subschemas: [...plan.builders.values()].map((builder) => builder.build()), internalFields: plan.internalFields };
}

