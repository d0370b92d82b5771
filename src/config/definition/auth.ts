import { z } from 'zod';
import { envRef, stringOrEnv } from './env-ref';

/**
 * How the gateway authenticates to a source. Secrets are environment references only: they never
 * appear in a definition, a log line, an error or `/readyz`.
 */
export const authDefinition = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('none') }),
  /** An API key (or any fixed secret) sent in a header on every call, e.g. `x-api-key`. */
  z.strictObject({ type: z.literal('header'), header: z.string().min(1), value: envRef }),
  /** A fixed bearer token: `Authorization: Bearer <token>`. */
  z.strictObject({ type: z.literal('bearer'), token: envRef }),
  /**
   * OAuth 2.0 client credentials (RFC 6749, section 4.4): the gateway asks the token endpoint for an
   * access token (client id and secret in HTTP Basic), sends it as a bearer token, keeps it until
   * `renewBeforeExpiryMs` before it expires, and on a 401 fetches a new one and repeats the call once.
   */
  z.strictObject({
    type: z.literal('oauth2ClientCredentials'),
    /** The token endpoint: an absolute URL, or a path such as `/oauth/token` on the source's own origin. */
    tokenUrl: stringOrEnv,
    clientId: stringOrEnv,
    clientSecret: envRef,
    /** Space-separated scopes to ask for; none by default. */
    scope: z.string().min(1).optional(),
    /** A token is renewed this long before its `expires_in` runs out, in milliseconds (at most an hour). */
    renewBeforeExpiryMs: z.number().int().min(0).max(3_600_000).default(30_000),
  }),
]);
export type AuthDefinition = z.infer<typeof authDefinition>;
