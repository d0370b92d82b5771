import { z } from 'zod';
import { accessDefinition } from './access';
import { authDefinition } from './auth';
import { cachePolicyDefinition } from './cache';
import { entityDefinition } from './entity';
import { stringOrEnv } from './env-ref';
import { limitsDefinition } from './limits';
import { typeName } from './names';

/**
 * Calls to this source carry the calling client's own bearer token (a JWT the gateway verified),
 * beside the source's own credentials. Off unless declared: by default a source is called with its
 * `auth` only, and nothing the client sent reaches it. For a source that decides per user what it
 * answers; its upstream-call cache is then kept per caller, and a caller with no bearer token (an
 * API key, anonymous access) gets SOURCE_CALLER_TOKEN_REQUIRED instead of a call made with the
 * gateway's rights.
 */
export const forwardCallerDefinition = z.strictObject({
  /** The header the token goes in: `authorization` carries `Bearer <token>`; any other header, the token as it came. */
  header: z
    .string()
    .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'an HTTP header name, such as authorization or x-user-token')
    .transform((name) => name.toLowerCase())
    .default('authorization'),
});
export type ForwardCallerDefinition = z.infer<typeof forwardCallerDefinition>;

/** The header a source's own `auth` fills, which a forwarded token must not replace. */
function ownCredentialHeader(auth: z.infer<typeof authDefinition>): string | undefined {
  switch (auth.type) {
    case 'none':
      return undefined;
    case 'header':
      return auth.header.toLowerCase();
    case 'bearer':
    case 'oauth2ClientCredentials':
      return 'authorization';
  }
}

/** A source system: where it is, how the gateway authenticates to it, how hard it may be pressed, and the entities it serves. */
export const sourceDefinition = z
  .strictObject({
    description: z.string().optional(),
    baseUrl: stringOrEnv.superRefine((baseUrl, context) => {
      // Checked as written (or as its environment reference's default): a variable set at start is checked when the source starts.
      const written = typeof baseUrl === 'string' ? { url: baseUrl, path: [] } : baseUrl.default === undefined ? undefined : { url: baseUrl.default, path: ['default'] };
      if (written && !isUrl(written.url)) {
        context.addIssue({ code: 'custom', path: written.path, input: written.url, message: `not a URL: write the API's absolute base URL, e.g. https://api.example.com/v1` });
      }
    }),
    auth: authDefinition.default({ type: 'none' }),
    /** Forward the calling client's bearer token to this source (off by default). */
    forwardCaller: forwardCallerDefinition.optional(),
    limits: limitsDefinition.prefault({}),
    /** Overrides the config's default cache policy for every entity of this source. */
    cache: cachePolicyDefinition.optional(),
    /** What a caller needs to see anything this source serves (its types, root fields and joins onto it). */
    access: accessDefinition.optional(),
    entities: z.record(typeName, entityDefinition),
  })
  .superRefine((source, context) => {
    const own = ownCredentialHeader(source.auth);
    if (source.forwardCaller && own === source.forwardCaller.header) {
      context.addIssue({
        code: 'custom',
        path: ['forwardCaller', 'header'],
        message: `the source's own credentials (auth.type ${source.auth.type}) go in ${own}: send the caller's token in another header (forwardCaller.header, e.g. x-user-token)`,
      });
    }
  });
export type SourceDefinition = z.infer<typeof sourceDefinition>;
export type SourceDefinitionInput = z.input<typeof sourceDefinition>;

function isUrl(text: string): boolean {
  try {
    // Which schemes and hosts a source may have is the egress policy's to say; here, only that it is a URL.
    return new URL(text).protocol !== '';
  } catch {
    return false;
  }
}
