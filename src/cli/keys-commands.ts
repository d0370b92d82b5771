/**
 * `virtualize keys create --name N --scopes a,b [--expires ISO]`, `virtualize keys list` and
 * `virtualize keys revoke <id>`: managed API keys of a running gateway, through its admin API.
 * `create` prints the key once (it is not kept); `list` shows ids, names, scopes and dates only.
 */
import { adminGraphQL, AdminClientError, type AdminTarget } from './admin-client';

export const KEYS_USAGE = `  keys create --name <name> --scopes <a,b> [--expires <ISO date>]
                            create an API key for /graphql; prints the key once
  keys list                 the managed keys: id, name, scopes, created, last used, expiry
  keys revoke <id>          refuse a key from now on (other replicas: within 30 s)
`;

interface Listed {
  id: string;
  name: string;
  scopes: string[];
  createdAt: string;
  lastUsedAt: string | null;
  expiresAt: string | null;
  revokedAt: string | null;
}

const FIELDS = 'id name scopes createdAt lastUsedAt expiresAt revokedAt';
type Show = (text: string, data: unknown) => void;

function stateOf(key: Listed): string {
  if (key.revokedAt) return `revoked ${key.revokedAt}`;
  if (key.expiresAt) return `expires ${key.expiresAt}`;
  return 'no expiry';
}

/** Runs `keys create|list|revoke`; undefined when the action is none of them (the caller prints the usage). */
export async function runKeysCommand(
  target: AdminTarget,
  action: string | undefined,
  args: readonly string[],
  options: { name?: string; scopes?: string; expires?: string },
  show: Show,
): Promise<number | undefined> {
  if (action === 'create') {
    if (!options.name) throw new AdminClientError('keys create needs a name: virtualize keys create --name reporting --scopes customers:read,orders:read');
    const scopes = (options.scopes ?? '').split(',').map((scope) => scope.trim()).filter(Boolean);
    const { createApiKey } = await adminGraphQL<{ createApiKey: { key: string; apiKey: Listed } }>(
      target,
      `mutation($name: String!, $scopes: [String!]!, $expiresAt: String) { createApiKey(name: $name, scopes: $scopes, expiresAt: $expiresAt) { key apiKey { ${FIELDS} } } }`,
      { name: options.name, scopes, expiresAt: options.expires ?? null },
    );
    const { key, apiKey } = createApiKey;
    show(
      `Created API key ${apiKey.id} (${apiKey.name}), scopes ${apiKey.scopes.join(' ') || '(none)'}, ${stateOf(apiKey)}.\n` +
        `Key (shown this once; send it as x-api-key): ${key}\n`,
      createApiKey,
    );
    return 0;
  }
  if (action === 'list') {
    const { apiKeys } = await adminGraphQL<{ apiKeys: Listed[] }>(target, `{ apiKeys { ${FIELDS} } }`);
    const text =
      apiKeys.length === 0
        ? 'No managed API keys: virtualize keys create --name <name> --scopes <a,b>\n'
        : `${apiKeys.map((key) => `${key.id}  ${key.name.padEnd(20)} ${(key.scopes.join(' ') || '(no scopes)').padEnd(40)} created ${key.createdAt}  last used ${key.lastUsedAt ?? 'never'}  ${stateOf(key)}`).join('\n')}\n`;
    show(text, apiKeys);
    return 0;
  }
  if (action === 'revoke') {
    const id = args[0];
    if (!id) throw new AdminClientError('keys revoke needs the key id: virtualize keys revoke <id> (virtualize keys list shows them)');
    const { revokeApiKey } = await adminGraphQL<{ revokeApiKey: { id: string; revoked: boolean } }>(target, 'mutation($id: String!) { revokeApiKey(id: $id) { id revoked } }', { id });
    show(revokeApiKey.revoked ? `Revoked API key ${id}: refused from now on (other replicas within 30 s).\n` : `No API key has the id ${id}: virtualize keys list shows them.\n`, revokeApiKey);
    return revokeApiKey.revoked ? 0 : 1;
  }
  return undefined;
}
