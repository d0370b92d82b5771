import { z } from 'zod';
import { authDefinition } from './auth';
import { cachePolicyDefinition } from './cache';
import { entityDefinition } from './entity';
import { stringOrEnv } from './env-ref';
import { limitsDefinition } from './limits';
import { typeName } from './names';

/** A source system: where it is, how the gateway authenticates to it, how hard it may be pressed, and the entities it serves. */
export const sourceDefinition = z.strictObject({
  description: z.string().optional(),
  baseUrl: stringOrEnv,
  auth: authDefinition.default({ type: 'none' }),
  limits: limitsDefinition.prefault({}),
  /** Overrides the config's default cache policy for every entity of this source. */
  cache: cachePolicyDefinition.optional(),
  entities: z.record(typeName, entityDefinition),
});
export type SourceDefinition = z.infer<typeof sourceDefinition>;
export type SourceDefinitionInput = z.input<typeof sourceDefinition>;
