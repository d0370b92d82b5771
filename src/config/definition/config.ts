import { z } from 'zod';
import { cacheDefinition } from './cache';
import { clientAuthDefinition } from './client-auth';
import { guardDefinition } from './guard';
import { mappingDefinition } from './mappings';
import { identifier } from './names';
import { registryDefinition } from './registry';
import { serverDefinition } from './server';
import { sourceDefinition } from './source';

/** The whole configuration of a gateway, as `virtualization.config.ts` declares it. */
export const configDefinition = z.strictObject({
  /** The JSON Schema of this file, for editors: `schema/virtualize-config.schema.json`. */
  $schema: z.string().optional(),
  server: serverDefinition.prefault({}),
  /**
   * Where the hand-written canonical types (`*.graphql`) live, relative to the config file. Left
   * out: the `schema` directory beside the config file when there is one, else none (every type
   * is as the sources declare it). `false`: none.
   */
  schemaDir: z.union([z.string().min(1), z.literal(false)]).optional(),
  /**
   * `strict`: a canonical type or field that no source serves refuses the configuration. By
   * default it is a warning that names it, and the type is left out of the served schema.
   */
  canonical: z.strictObject({ strict: z.boolean().default(false) }).prefault({}),
  sources: z.record(identifier, sourceDefinition),
  mappings: z.record(identifier, mappingDefinition).default({}),
  guard: guardDefinition.prefault({}),
  cache: cacheDefinition.prefault({}),
  /** Operations offered in GraphiQL; the first is the default tab. */
  examples: z.array(z.strictObject({ name: z.string(), query: z.string(), variables: z.string().optional() })).default([]),
  registry: registryDefinition.prefault({}),
  /** Who may call `/graphql` and what each caller may see (`src/auth/`). */
  auth: clientAuthDefinition.prefault({}),
});
export type VirtualizationConfig = z.infer<typeof configDefinition>;
export type VirtualizationConfigInput = z.input<typeof configDefinition>;
