/** Run-time registration: the registry's store, the admin API's credentials and the egress policy of registered sources. */
import { z } from 'zod';
import { envRef, stringOrEnv } from './env-ref';
import { identifier } from './names';

/** What an admin credential may do: read the registry (validate, status, audit), or change it. */
export const adminScope = z.enum(['registry:read', 'registry:write']);
export type AdminScope = z.infer<typeof adminScope>;

const hostPattern = z
  .string()
  .regex(/^(\*|(\*\.)?[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(:[0-9]{1,5})?$/, 'a host, `*.domain`, or `*`, optionally with `:port`, e.g. api.billing.example.com or 127.0.0.1:4104');

const envPattern = z.string().regex(/^[A-Z_][A-Z0-9_]*\*?$/, 'an environment variable name, or a prefix ending in *, e.g. BILLING_API_KEY or BILLING_*');

export const registryDefinition = z.strictObject({
  /** Where registered definitions, the audit trail and imported crosswalks are kept. */
  store: z
    .discriminatedUnion('kind', [
      /** Embedded: files under `dir` (relative to the working directory), written atomically. One replica. */
      z.strictObject({ kind: z.literal('file'), dir: z.string().min(1).default('.virtualize') }),
      /** Shared by a fleet: every replica reloads within seconds of a change on any of them (LISTEN/NOTIFY). */
      z.strictObject({
        kind: z.literal('postgres'),
        url: stringOrEnv,
        /** The PostgreSQL schema holding the registry's tables, created by the migrations. */
        schema: z.string().regex(/^[a-z_][a-z0-9_]*$/, 'a lower-case SQL identifier, e.g. virtualize').default('virtualize'),
        /** A replica also re-reads the registry this often, in case a notification was lost, in milliseconds. */
        pollIntervalMs: z.number().int().min(100).max(3_600_000).default(30_000),
      }),
    ])
    .default({ kind: 'file', dir: '.virtualize' }),
  /**
   * Credentials of the admin API (`/admin/graphql`), by name (the name is who the audit trail
   * records). Tokens only by env reference; a credential whose variable is unset is inactive.
   */
  credentials: z.record(identifier, z.strictObject({ token: envRef, scopes: z.array(adminScope).min(1) })).default({}),
  /** Where registered sources may send requests. Sources in this file are trusted as written. */
  egress: z
    .strictObject({
      /** Hosts registered sources may call (`*` for any public host). */
      allowedHosts: z.array(hostPattern).default([]),
      /** Hosts that may resolve to private, loopback or link-local addresses (the sandbox); also allowed. */
      allowPrivate: z.array(hostPattern).default([]),
    })
    .prefault({}),
  /**
   * Which environment variables a registered definition may name (its base URL, its auth): names
   * or patterns ending in `*`, e.g. `BILLING_*`. None by default: a registration must not become a
   * way to read, or send to a host of the registrant's choosing, whatever the gateway's environment holds.
   */
  env: z.strictObject({ allowed: z.array(envPattern).default([]) }).prefault({}),
  /** Bounds of one crosswalk upload (`POST /admin/crosswalks/<mapping>`); past any of them it is refused whole with 413. */
  imports: z
    .strictObject({
      /** Longest line, in bytes: a crosswalk row is two ids; a longer line is not a crosswalk. */
      maxLineBytes: z.number().int().min(256).max(1_048_576).default(16_384),
      /** Most data rows of one upload. */
      maxRows: z.number().int().min(1).max(50_000_000).default(1_000_000),
      /** Most bytes of one upload. */
      maxUploadBytes: z.number().int().min(1_024).max(4_294_967_296).default(67_108_864),
      /** Where an upload's accepted rows are staged until they are loaded (removed on every exit); default the system's temporary directory. */
      stagingDir: z.string().min(1).optional(),
    })
    .prefault({}),
  /** The sample calls of one dry run (or of a change's checks) end within this many milliseconds; what has not answered by then is a problem. */
  dryRun: z.strictObject({ timeoutMs: z.number().int().min(100).max(120_000).default(15_000) }).prefault({}),
});
export type RegistryDefinition = z.infer<typeof registryDefinition>;
