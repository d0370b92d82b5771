/**
 * Who may call `/graphql`: client authentication (API keys, JWT bearer tokens), anonymous access,
 * authorization mode and policies, introspection and GraphiQL switches, trusted documents and the
 * browser's cross-origin rules. Not to be confused with `auth` of a source (`./auth.ts`), which is
 * how the gateway authenticates to that source.
 */
import { z } from 'zod';
import { envRef, stringOrEnv } from './env-ref';
import { identifier } from './names';

/** A scope a caller holds and a schema element may require: `customers:read`, `pii:read`. */
export const scopeName = z.string().regex(/^[A-Za-z][A-Za-z0-9_.:-]*$/, 'a scope such as customers:read (letters, digits and _ . : -, starting with a letter)');

/** JWS algorithms a JWT issuer may be pinned to. `none` is never one of them. */
export const jwtAlgorithm = z.enum(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'HS256', 'HS384', 'HS512']);

/** One issuer of JWT bearer tokens the gateway accepts. */
export const jwtIssuerDefinition = z
  .strictObject({
    /** The `iss` claim every token of this issuer carries (required, compared exactly). */
    issuer: z.string().min(1),
    /** The `aud` the token must name (one of them, when a list). */
    audience: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
    /** Where the issuer publishes its keys (JWKS); refreshed periodically, refetched once (rate-limited) on an unknown `kid`. */
    jwksUrl: stringOrEnv.optional(),
    /** A configured public key instead of a JWKS: PEM (SPKI) or a JWK as JSON, by env reference. */
    publicKey: envRef.optional(),
    /** A shared secret for HS* algorithms, by env reference; never combined with a JWKS or a public key. */
    secret: envRef.optional(),
    /** The algorithms this issuer signs with; tokens signed otherwise are refused. */
    algorithms: z.array(jwtAlgorithm).min(1),
    /** Clock skew tolerated on `exp`, `nbf` and `iat`, in seconds. */
    leewaySeconds: z.number().int().min(0).max(300).default(60),
    /** Where the scopes are, as a dot path into the claims: a space-separated string or an array. `scope`, then `scp`, by default. */
    scopesClaim: z.string().min(1).optional(),
    /** The claim naming the caller (budgets, logs, audit). */
    subjectClaim: z.string().min(1).default('sub'),
    /** The claim naming the caller's tenant, when there is one. */
    tenantClaim: z.string().min(1).optional(),
    /** Read the token from this cookie when no `Authorization: Bearer` header is sent. */
    cookie: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'a cookie name').optional(),
    /** How often the JWKS is fetched again, in milliseconds. */
    jwksRefreshMs: z.number().int().min(1_000).max(86_400_000).default(600_000),
    /** The least time between two fetches of the JWKS (an unknown `kid` refetches at most this often), in milliseconds. */
    jwksCooldownMs: z.number().int().min(0).max(3_600_000).default(30_000),
    /** A JWKS fetch that takes longer fails (and the token is refused), in milliseconds. */
    jwksTimeoutMs: z.number().int().min(1).max(60_000).default(5_000),
  })
  .superRefine((issuer, context) => {
    const keySources = [issuer.jwksUrl, issuer.publicKey, issuer.secret].filter((source) => source !== undefined).length;
    if (keySources !== 1) context.addIssue({ code: 'custom', message: 'declare exactly one of jwksUrl, publicKey or secret', path: [] });
    const symmetric = issuer.algorithms.filter((algorithm) => algorithm.startsWith('HS'));
    if (issuer.secret === undefined && symmetric.length > 0)
      context.addIssue({ code: 'custom', message: `${symmetric.join(', ')} needs a shared secret: a JWKS or public key never verifies an HS* algorithm`, path: ['algorithms'] });
    if (issuer.secret !== undefined && symmetric.length !== issuer.algorithms.length)
      context.addIssue({ code: 'custom', message: 'a shared secret verifies HS256, HS384 or HS512 only', path: ['algorithms'] });
  });
export type JwtIssuerDefinition = z.infer<typeof jwtIssuerDefinition>;

/** What a policy function is told: who calls (`@policy` decisions). */
export interface PolicyCaller {
  readonly kind: 'apiKey' | 'jwt' | 'anonymous';
  readonly subject: string | undefined;
  readonly tenant: string | undefined;
  readonly scopes: ReadonlySet<string>;
  /** The verified claims of a JWT caller; empty for others. */
  readonly claims: Readonly<Record<string, unknown>>;
}
/** Decides one `@policy` name for a caller. A policy with no function, or one that throws, denies. */
export type PolicyDecider = (caller: PolicyCaller) => boolean | Promise<boolean>;

const policyDecider = z.custom<PolicyDecider>((value) => typeof value === 'function', 'a function (caller) => boolean');

/** Who may see a GraphQL feature (introspection, GraphiQL): on or off, and a scope that sees it anyway. */
const exposure = z.strictObject({
  /** Default: on, except in production (NODE_ENV=production outside sandbox mode; `npm start` runs the sandbox). */
  enabled: z.boolean().optional(),
  /** A caller holding this scope sees it even when it is off. */
  scope: scopeName.optional(),
});

export const clientAuthDefinition = z.strictObject({
  /**
   * Callers with no credential are refused (401) unless this is declared, with the scopes they
   * get. Outside sandbox mode `virtualize start` refuses to start with neither a credential kind
   * nor this.
   */
  anonymous: z.strictObject({ scopes: z.array(scopeName).default([]) }).optional(),
  apiKeys: z
    .strictObject({
      /** Keys fixed by the configuration, by name, each read from the environment (a key whose variable is unset is inactive). */
      static: z.record(identifier, z.strictObject({ key: envRef, scopes: z.array(scopeName).default([]) })).default({}),
      /** Keys created at run time (admin API, `virtualize keys`), kept as digests in the registry store. */
      managed: z.boolean().default(true),
    })
    .prefault({}),
  jwt: z.strictObject({ issuers: z.array(jwtIssuerDefinition).default([]) }).prefault({}),
  authorization: z
    .strictObject({
      /** `reject`: an operation touching a field the caller may not see is refused whole (403); `filter`: that field is null with FORBIDDEN, the rest served. */
      mode: z.enum(['reject', 'filter']).default('reject'),
      /** The functions deciding `@policy` names; an undecided policy denies. */
      policies: z.record(z.string().min(1), policyDecider).default({}),
    })
    .prefault({}),
  introspection: exposure.prefault({}),
  graphiql: exposure.prefault({}),
  trustedDocuments: z
    .strictObject({
      /** `off`; `log`: unknown documents run and are counted; `enforce`: only registered operations run. */
      mode: z.enum(['off', 'log', 'enforce']).default('off'),
      /** A caller holding this scope may still send documents inline (analysts in GraphiQL). */
      inlineScope: scopeName.optional(),
    })
    .prefault({}),
  cors: z
    .strictObject({
      /** Origins allowed to call from a browser (exact, e.g. https://dashboards.example.com). None by default. */
      origins: z.array(z.string().regex(/^https?:\/\/[^/\s]+$/, 'an origin such as https://dashboards.example.com')).default([]),
      /** Let listed origins send cookies and credentials. Never for an origin not listed. */
      credentials: z.boolean().default(false),
    })
    .prefault({}),
});
export type ClientAuthDefinition = z.infer<typeof clientAuthDefinition>;
