/**
 * What a verified token says about its caller: scopes, subject and tenant, read from the claims
 * the issuer's configuration names. The claims are signed by the issuer, yet still bounded: a
 * token is a client's input, and an issuer may put anything in it.
 */

/** Scopes past this many in one token are ignored. */
export const MAX_SCOPES = 256;
/** A scope, subject or tenant longer than this is not one. */
const MAX_NAME_LENGTH = 256;

/** The value at a dot path (`realm_access.roles`), or undefined. A claim whose own name has a dot is found first. */
export function claimAt(claims: Readonly<Record<string, unknown>>, path: string): unknown {
  if (Object.hasOwn(claims, path)) return claims[path];
  let current: unknown = claims;
  for (const part of path.split('.')) {
    if (typeof current !== 'object' || current === null || Array.isArray(current) || !Object.hasOwn(current, part)) return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

/** Scopes from a space-separated string (OAuth's `scope`) or an array of strings (`scp`, roles). */
export function scopesIn(value: unknown): Set<string> {
  const names = typeof value === 'string' ? value.split(/\s+/) : Array.isArray(value) ? value.slice(0, MAX_SCOPES) : [];
  const scopes = new Set<string>();
  for (const name of names) {
    if (scopes.size >= MAX_SCOPES) break;
    if (typeof name === 'string' && name.length > 0 && name.length <= MAX_NAME_LENGTH) scopes.add(name);
  }
  return scopes;
}

/** The scopes of a token: at the configured path, else `scope`, else `scp`. */
export function scopesOf(claims: Readonly<Record<string, unknown>>, scopesClaim: string | undefined): Set<string> {
  if (scopesClaim !== undefined) return scopesIn(claimAt(claims, scopesClaim));
  return scopesIn(claims.scope ?? claims.scp);
}

/** A name-like claim (subject, tenant): a non-empty string or a number, bounded; else undefined. */
export function nameAt(claims: Readonly<Record<string, unknown>>, path: string): string | undefined {
  const value = claimAt(claims, path);
  const text = typeof value === 'string' ? value : typeof value === 'number' && Number.isFinite(value) ? String(value) : undefined;
  return text !== undefined && text.length > 0 && text.length <= MAX_NAME_LENGTH ? text : undefined;
}
