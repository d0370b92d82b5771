import { z } from 'zod';
import { cacheDefinition } from './cache';
import { clientAuthDefinition } from './client-auth';
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
      /** Loopback unless told otherwise: a gateway in front of customer data listens on every interface only when asked (HOST=0.0.0.0). */
      host: z.string().default('127.0.0.1'),
    })
    .default({ port: 4000, host: '127.0.0.1' }),
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
