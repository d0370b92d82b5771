import { createHash, timingSafeEqual } from 'node:crypto';
import type { AdminScope, RegistryDefinition } from '../config/definition';
import { CODES, VirtualizeError } from '../errors';

/** An admin credential with a token set in the environment; only its digest is kept. */
export interface AdminCredential {
  /** Who the audit trail records. */
  name: string;
  scopes: ReadonlySet<AdminScope>;
  digest: Buffer;
}

type AdminRefusalCode = typeof CODES.UNAUTHENTICATED | typeof CODES.ADMIN_DISABLED | typeof CODES.FORBIDDEN;

/** A refusal of the admin API before anything runs: 401 UNAUTHENTICATED, 403 FORBIDDEN or ADMIN_DISABLED. */
export class AdminRefusal extends VirtualizeError<AdminRefusalCode> {
  constructor(code: AdminRefusalCode, message: string) {
    super(code, message);
    this.name = 'AdminRefusal';
  }
}

export type AdminAuth = { ok: true; credential: AdminCredential } | { ok: false; refusal: AdminRefusal };

function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

/** The credentials whose environment variable is set; the others are inactive. */
export function adminCredentials(definitions: RegistryDefinition['credentials'], env: NodeJS.ProcessEnv): AdminCredential[] {
  return Object.entries(definitions).flatMap(([name, definition]) => {
    const token = env[definition.token.env];
    return token ? [{ name, scopes: new Set(definition.scopes), digest: digest(token) }] : [];
  });
}

/**
 * Who is calling the admin API, from `Authorization: Bearer <token>`. Tokens are compared as
 * SHA-256 digests in constant time, against every credential (so timing tells nothing about which).
 */
export function authenticateAdmin(authorization: string | undefined, credentials: readonly AdminCredential[], variables: readonly string[]): AdminAuth {
  if (credentials.length === 0) {
    return { ok: false, refusal: new AdminRefusal(CODES.ADMIN_DISABLED, `The admin API is disabled: no admin credential is set. Set ${variables.join(' or ') || 'an admin token variable (registry.credentials)'} in the gateway's environment and restart it.`) };
  }
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  if (!match) return { ok: false, refusal: new AdminRefusal(CODES.UNAUTHENTICATED, 'The admin API needs an admin token: send "Authorization: Bearer <token>".') };
  const presented = digest(match[1]!);
  let found: AdminCredential | undefined;
  for (const credential of credentials) if (timingSafeEqual(presented, credential.digest)) found ??= credential;
  return found ? { ok: true, credential: found } : { ok: false, refusal: new AdminRefusal(CODES.UNAUTHENTICATED, 'The token is not an admin credential of this gateway.') };
}

/** The refusal for a credential that lacks a scope. */
export function missingScope(credential: AdminCredential, scope: AdminScope, what: string): AdminRefusal {
  return new AdminRefusal(CODES.FORBIDDEN, `The admin credential "${credential.name}" lacks the scope ${scope}, which ${what} needs.`);
}
