import { z } from 'zod';
import { mappingDefinition } from './mappings';
import { identifier } from './names';
import { sourceDefinition } from './source';

/**
 * A definition document: what an architect registers at run time (`virtualize sources add`), in
 * the same format as `sources` and `mappings` of `virtualization.config.ts`.
 */
export const definitionDocument = z.strictObject({
  /** The JSON Schema of this format, for editors: `schema/virtualize-definition.schema.json`. */
  $schema: z.string().optional(),
  sources: z.record(identifier, sourceDefinition).default({}),
  mappings: z.record(identifier, mappingDefinition).default({}),
});
export type DefinitionDocument = z.infer<typeof definitionDocument>;
export type DefinitionDocumentInput = z.input<typeof definitionDocument>;
