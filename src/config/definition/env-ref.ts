/** References to the environment: how a definition names a secret or setting without writing it down. */
import { z } from 'zod';

/** A secret or setting read from the environment when the source starts, never written in the definition. */
export const envRef = z.strictObject({
  env: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'an environment variable name, e.g. CRM_API_KEY'),
  default: z.string().optional(),
});
export type EnvRef = z.infer<typeof envRef>;
/** A value written in the definition, or an environment reference to read it from. */
export const stringOrEnv = z.union([z.string().min(1), envRef]);
