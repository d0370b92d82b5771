import { defaultMergedResolver as stitchedDefaultMergedResolver, type ExternalObject } from '@graphql-tools/delegate';
import { stitchSchemas } from '@graphql-tools/stitch';
import { filterSchema, MapperKind, mapSchema, pathToArray, relocatedError } from '@graphql-tools/utils';
import { GraphQLError, isObjectType, type GraphQLFieldResolver, type GraphQLResolveInfo, type GraphQLSchema } from 'graphql';
import type { Catalog } from '../catalog/catalog';
import { CODES, VirtualizeError } from '../errors';
import type { CanonicalSchema } from './canonical-schema';
import { buildSourceSubschemas, INTERNAL_FIELD_PREFIX } from './source-subschemas';

/** The canonical schema declares what no source serves, and the configuration is strict about it (`canonical.strict`). */
export class SchemaCoverageError extends VirtualizeError<typeof CODES.SCHEMA_COVERAGE> {
  constructor(message: string) {
    super(CODES.SCHEMA_COVERAGE, message);
  }
}

/**
 * Stitches the sources' subschemas into the unified schema: types of the same canonical name
 * merge (Customer from the CRM gains `orders` from the order system), then the merge-only entry
 * points and join-only key fields are removed from what consumers see.
 */
export function buildGatewaySchema(catalog: Catalog, canonical: CanonicalSchema, coverage: CoverageOptions = {}): GraphQLSchema {
  const { subschemas, internalFields } = buildSourceSubschemas(catalog, canonical);
  const stitched = locateMergedErrors(stitchSchemas({ subschemas, mergeTypes: true }));
  const schema = filterSchema({
    schema: stitched,
    rootFieldFilter: (_operation, fieldName) => !fieldName.startsWith(INTERNAL_FIELD_PREFIX),
    objectFieldFilter: (typeName, fieldName) => !internalFields.has(`${typeName}.${fieldName}`),
  });
  const missing = uncoveredFields(schema, canonical);
  if (missing.length > 0 && coverage.strict) {
    throw new SchemaCoverageError(
      `The canonical schema defines fields that no source serves: ${missing.join(', ')}. ` +
        'Map them in a source definition, declare the join that provides them, remove them from the schemaDir, or set canonical.strict to false.',
    );
  }
  if (missing.length > 0) coverage.warn?.(missing);
  return schema;
}

/** What the canonical types that no source serves make of a generation. */
export interface CoverageOptions {
  /** Refuse the generation (`canonical.strict`); otherwise they are left out of the served schema. */
  strict?: boolean;
  /** Told what is left out, e.g. `Customer (the whole type)`, `Customer.tickets`. */
  warn?: (missing: string[]) => void;
}

/**
 * A field that a merge delegation could not fetch (a source failed for `Customer.tickets`) holds
 * the error in place of its value. Type merging batches the delegation over a whole list of
 * records and locates that error at the list (`customers.nodes.tickets`): which record it concerns
 * is lost, and graphql-js keeps a path an error already has. This resolver hands such an error on
 * at the path of the field being resolved (`customers.nodes.2.tickets`).
 *
 * It keeps the name `defaultMergedResolver` on purpose: the stitching planner recognises merged
 * fields by that name.
 */
function locateMergedErrors(schema: GraphQLSchema): GraphQLSchema {
  const relocate = (value: unknown, info: GraphQLResolveInfo): unknown =>
    value instanceof GraphQLError ? relocatedError(value, pathToArray(info.path)) : value;
  const located: GraphQLFieldResolver<ExternalObject, Record<string, unknown>> = function defaultMergedResolver(parent, args, context, info) {
    const value: unknown = stitchedDefaultMergedResolver(parent, args, context, info);
    return isPromise(value) ? value.then((settled) => relocate(settled, info)) : relocate(value, info);
  };
  return mapSchema(schema, {
    [MapperKind.OBJECT_FIELD]: (field) => (field.resolve === stitchedDefaultMergedResolver ? { ...field, resolve: located } : field),
  });
}

function isPromise(value: unknown): value is Promise<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

/** The types and fields of the canonical model that no source or join serves. */
export function uncoveredFields(schema: GraphQLSchema, canonical: CanonicalSchema): string[] {
  const missing: string[] = [];
  for (const type of canonical.objectTypes()) {
    const served = schema.getType(type.name.value);
    if (!served || !isObjectType(served)) {
      missing.push(`${type.name.value} (the whole type)`);
      continue;
    }
    const fields = served.getFields();
    for (const field of type.fields ?? []) if (!fields[field.name.value]) missing.push(`${type.name.value}.${field.name.value}`);
  }
  return missing;
}
