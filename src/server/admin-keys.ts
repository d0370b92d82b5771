/**
 * Managed API keys in the admin API: `apiKeys` (registry:read), `createApiKey` and `revokeApiKey`
 * (registry:write), what `virtualize keys create|list|revoke` call. Both changes are audited by
 * the key's id and name; the key itself is in `createApiKey`'s answer only, shown that once.
 */
import type { AdminScope } from '../config/definition';
import { scopeName } from '../config/definition/client-auth';
import { CODES, VirtualizeError } from '../errors';
import type { AdminContext } from './admin-schema';

export const apiKeyTypeDefs = /* GraphQL */ `
  extend type Query {
    "Managed API keys, newest first: id, name, scopes and dates, never the key. Needs registry:read."
    apiKeys: [ApiKey!]!
  }

  extend type Mutation {
    "Creates an API key with these scopes; the answer holds the key, shown this once. expiresAt: ISO-8601, in the future. Audited. Needs registry:write."
    createApiKey(name: String!, scopes: [String!]!, expiresAt: String): CreatedApiKey!
    "Revokes a key by its id: refused from now on (on other replicas within 30 s). Audited. Needs registry:write."
    revokeApiKey(id: String!): RevokedApiKey!
  }

  "A managed API key as lists show it."
  type ApiKey {
    "The public part of the key (vz_<id>_...): what logs, audit and revocation name."
    id: String!
    name: String!
    scopes: [String!]!
    createdAt: String!
    lastUsedAt: String
    expiresAt: String
    revokedAt: String
  }

  type CreatedApiKey {
    "The key, to send as x-api-key. It is not kept and cannot be shown again."
    key: String!
    apiKey: ApiKey!
    audit: AuditEntry!
  }

  type RevokedApiKey {
    id: String!
    "False when no key has this id."
    revoked: Boolean!
    audit: AuditEntry
  }
`;

type Guarded = <A>(scope: AdminScope, what: string, run: (args: A, context: AdminContext) => Promise<unknown> | unknown) => (parent: unknown, args: A, context: AdminContext) => Promise<unknown>;

const MAX_NAME = 100;
const MAX_SCOPES = 50;

function keysOf(context: AdminContext) {
  if (!context.apiKeys) throw new VirtualizeError(CODES.BAD_USER_INPUT, 'Managed API keys are off on this gateway (auth.apiKeys.managed: false): declare static keys in auth.apiKeys.static instead, or turn them on.');
  return context.apiKeys;
}

/** The input of createApiKey, checked: what is wrong and what to send. */
function checkedInput(name: string, scopes: readonly string[], expiresAt: string | null | undefined, now: number): { name: string; scopes: string[]; expiresAt: string | null } {
  const problems: string[] = [];
  const trimmed = name.trim();
  if (trimmed === '' || trimmed.length > MAX_NAME) problems.push(`name must be 1 to ${MAX_NAME} characters`);
  if (scopes.length > MAX_SCOPES) problems.push(`at most ${MAX_SCOPES} scopes`);
  for (const scope of scopes.slice(0, MAX_SCOPES)) if (!scopeName.safeParse(scope).success) problems.push(`"${scope.slice(0, 60)}" is not a scope (such as customers:read)`);
  let expires: string | null = null;
  if (expiresAt !== null && expiresAt !== undefined) {
    const at = Date.parse(expiresAt);
    if (!/^\d{4}-\d{2}-\d{2}T/.test(expiresAt) || Number.isNaN(at)) problems.push(`expiresAt must be an ISO-8601 date and time, such as 2027-01-31T00:00:00Z; got "${expiresAt.slice(0, 60)}"`);
    else if (at <= now) problems.push(`expiresAt ${expiresAt} is not in the future`);
    else expires = new Date(at).toISOString();
  }
  if (problems.length > 0) throw new VirtualizeError(CODES.BAD_USER_INPUT, `The key was not created: ${problems.join('; ')}.`);
  return { name: trimmed, scopes: [...new Set(scopes)], expiresAt: expires };
}

export function apiKeyResolvers(guarded: Guarded) {
  return {
    Query: {
      apiKeys: guarded('registry:read', 'apiKeys', (_args, context) => keysOf(context).list()),
    },
    Mutation: {
      createApiKey: guarded<{ name: string; scopes: string[]; expiresAt?: string | null }>('registry:write', 'createApiKey', async ({ name, scopes, expiresAt }, context) => {
        const keys = keysOf(context);
        const input = checkedInput(name, scopes, expiresAt, keys.clock.wallNow());
        const { key, record } = await keys.create(input);
        const { digest: _digest, ...apiKey } = record;
        const audit = await context.registry.recordEvent({
          actor: context.credential.name,
          action: 'createApiKey',
          summary: `created API key ${record.id} (${record.name}) with scopes ${record.scopes.join(' ') || '(none)'}${record.expiresAt ? `, expiring ${record.expiresAt}` : ''}`,
          diff: [{ op: 'add', path: `apiKeys.${record.id}`, after: { name: record.name, scopes: record.scopes, expiresAt: record.expiresAt } }],
        });
        return { key, apiKey, audit };
      }),
      revokeApiKey: guarded<{ id: string }>('registry:write', 'revokeApiKey', async ({ id }, context) => {
        const keys = keysOf(context);
        const revoked = /^[a-z2-7]{12}$/.test(id) && (await keys.revoke(id));
        if (!revoked) return { id, revoked: false, audit: null };
        const audit = await context.registry.recordEvent({ actor: context.credential.name, action: 'revokeApiKey', summary: `revoked API key ${id}`, diff: [{ op: 'remove', path: `apiKeys.${id}`, before: id }] });
        return { id, revoked: true, audit };
      }),
    },
  };
}
