import type { Caller } from '../auth/caller';
import type { JwtIssuerDefinition } from '../config/definition';
import type { CallerCredential } from '../connectors/caller-credential';
import type { VirtualizationConfig } from '../config/definition';

const BEARER = /^Bearer[ \t]+([^\s,]+)[ \t]*$/i;

/** The value of the cookie `name` in a `Cookie` header, if it is there. */
function cookieValue(header: string | null, name: string): string | undefined {
  if (header === null) return undefined;
  for (const pair of header.split(';')) {
    const at = pair.indexOf('=');
    if (at !== -1 && pair.slice(0, at).trim() === name) return pair.slice(at + 1).trim() || undefined;
  }
  return undefined;
}

/**
 * What a source that forwards its caller (`forwardCaller`) is given of the request's caller: its
 * client id, and the bearer token authentication verified, read from where authentication read it
 * (the `Authorization` header, else the issuer's cookie). Only a JWT caller has a token to forward:
 * an API key is the gateway's own credential, never a user's at a source.
 */
export function callerCredentialOf(caller: Caller, headers: Headers, issuers: readonly JwtIssuerDefinition[]): CallerCredential {
  if (caller.kind !== 'jwt') return { subject: caller.clientId, token: undefined };
  const bearer = BEARER.exec(headers.get('authorization') ?? '')?.[1];
  const cookie = issuers.find((issuer) => issuer.issuer === caller.issuer)?.cookie;
  return { subject: caller.clientId, token: bearer ?? (cookie === undefined ? undefined : cookieValue(headers.get('cookie'), cookie)) };
}

const forwarding = new WeakMap<VirtualizationConfig, boolean>();

/**
 * Whether a generation's configuration has a source that answers per caller (`forwardCaller`):
 * then a whole answer may hold what that source answered one caller, and the response tier keeps
 * answers per caller rather than per rights.
 */
export function forwardsCaller(config: VirtualizationConfig): boolean {
  let found = forwarding.get(config);
  if (found === undefined) forwarding.set(config, (found = Object.values(config.sources).some((source) => source.forwardCaller !== undefined)));
  return found;
}
