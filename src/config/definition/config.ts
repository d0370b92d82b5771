import { z } from 'zod';
import { cacheDefinition } from './cache';
import { guardDefinition } from './guard';
import { mappingDefinition } from './mappings';
import { identifier } from './names';
import { registryDefinition } from './registry';
import { sourceDefinition } from './source';

/** The whole configuration of a gateway, as `virtualization.config.ts` declares it. */
export const configDefinition = z.strictObject({
  server: z
    .strictObject({
      port: z.number().int().min(0).max(65_535).default(4000),
      host: z.string().default('0.0.0.0'),
    })
    .default({ port: 4000, host: '0.0.0.0' }),
  /** Where the canonical schema's SDL files live (relative to the config file). */
  schemaDir: z.string().default('schema'),
  sources: z.record(identifier, sourceDefinition),
  mappings: z.record(identifier, mappingDefinition).default({}),
  guard: guardDefinition.prefault({}),
  cache: cacheDefinition.prefault({}),
  /** Operations offered in GraphiQL; the first is the default tab. */
  examples: z.array(z.strictObject({ name: z.string(), query: z.string(), variables: z.string().optional() })).default([]),
  registry: registryDefinition.prefault({}),
});
export type VirtualizationConfig = z.infer<typeof configDefinition>;
export type VirtualizationConfigInput = z.input<typeof configDefinition>;
