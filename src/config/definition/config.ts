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
  server: serverDefinition.prefault({}),
  /** Where the canonical schema's SDL files live (relative to the config file). */
  schemaDir: z.string().default('schema'),
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
