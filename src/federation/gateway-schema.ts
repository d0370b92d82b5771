import { stitchSchemas } from '@graphql-tools/stitch';
import { filterSchema } from '@graphql-tools/utils';
import { isObjectType, type GraphQLSchema } from 'graphql';
import type { VirtualizationConfig } from '../config/definition';
import type { CanonicalSchema } from './canonical-schema';
import { buildSourceSubschemas, INTERNAL_FIELD_PREFIX } from './source-subschemas';

export class SchemaCoverageError extends Error {
  readonly code = 'SCHEMA_COVERAGE';
}

/**
 * Stitches the sources' subschemas into the unified schema: types of the same canonical name
 * merge (Customer from the CRM gains `orders` from the order system), then the merge-only entry
 * points and join-only key fields are removed from what consumers see.
 */
export function buildGatewaySchema(config: VirtualizationConfig, canonical: CanonicalSchema): GraphQLSchema {
  const { subschemas, internalFields } = buildSourceSubschemas(config, canonical);
  const stitched = stitchSchemas({ subschemas, mergeTypes: true });
  const schema = filterSchema({
    schema: stitched,
    rootFieldFilter: (_operation, fieldName) => !fieldName.startsWith(INTERNAL_FIELD_PREFIX),
    objectFieldFilter: (typeName, fieldName) => !internalFields.has(`${typeName}.${fieldName}`),
  });
  checkCoverage(schema, canonical);
  return schema;
}

/** Every field of the canonical model must be served by some source or join. */
function checkCoverage(schema: GraphQLSchema, canonical: CanonicalSchema): void {
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
  if (missing.length > 0) {
    throw new SchemaCoverageError(
      `The canonical schema defines fields that no source serves: ${missing.join(', ')}. ` +
        'Map them in a source definition, declare the join that provides them, or remove them from schema/.',
    );
  }
}
