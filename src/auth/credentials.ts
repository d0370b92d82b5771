/**
 * The credential a request carries, read from its headers alone (nothing of the body): an API key
 * (`x-api-key`, or `Authorization: ApiKey <key>`), a bearer token (`Authorization: Bearer <token>`,
 * or the cookie an issuer names), or none. A request that carries something unreadable, or two
 * credentials at once, is `malformed`: it is refused, never read as having no credential (which
 * anonymous access would let through).
 */
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';

/** The headers a credential is read from: a value per name, a list where a header is repeated. */
export type CredentialHeaders = Readonly<NodeJS.Dict<string | string[]>>;

/**
 * A request's headers as its credential is read from them. Node keeps only the first of repeated
 * Authorization headers (`IncomingMessage.headers` drops the others), which would read two
 * credentials as one, and not necessarily the one a proxy in front checked: the repeats are kept
 * here, so that `readCredential` refuses them.
 */
export function credentialHeadersOf(request: Pick<IncomingMessage, 'headers' | 'headersDistinct'>): CredentialHeaders {
  const authorization = request.headersDistinct.authorization;
  return authorization !== undefined && authorization.length > 1 ? { ...request.headers, authorization } : request.headers;
}

export const API_KEY_HEADER = 'x-api-key';

/** Longer keys and tokens are refused unread: every buffer has a bound. */
export const MAX_API_KEY_LENGTH = 256;
export const MAX_BEARER_TOKEN_LENGTH = 8_192;
/** A Cookie header longer than this is not searched for a token. */
const MAX_COOKIE_HEADER_LENGTH = 16_384;
/** At most this many cookies of one header are looked at. */
const MAX_COOKIES = 100;

export type Credential =
  | { kind: 'none' }
  | { kind: 'apiKey'; key: string; via: 'x-api-key' | 'authorization' }
  | { kind: 'bearer'; token: string; via: 'authorization' | 'cookie' }
  /** `reason` says what is wrong and what to send instead; it never repeats what was sent. */
  | { kind: 'malformed'; reason: string };

/** Printable ASCII without spaces: what keys and tokens are made of. */
const PRINTABLE = /^[\x21-\x7e]+$/;

function single(value: string | string[] | undefined): string | string[] | undefined {
  return Array.isArray(value) && value.length === 1 ? value[0] : value;
}

function apiKey(key: string, via: 'x-api-key' | 'authorization'): Credential {
  if (key.length > MAX_API_KEY_LENGTH) return { kind: 'malformed', reason: `The API key is longer than ${MAX_API_KEY_LENGTH} characters: send the key exactly as it was issued.` };
  if (!PRINTABLE.test(key)) return { kind: 'malformed', reason: 'The API key is malformed (keys are printable characters with no spaces): send the key exactly as it was issued.' };
  return { kind: 'apiKey', key, via };
}

function bearer(token: string, via: 'authorization' | 'cookie'): Credential {
  if (token.length > MAX_BEARER_TOKEN_LENGTH) return { kind: 'malformed', reason: `The bearer token is longer than ${MAX_BEARER_TOKEN_LENGTH} characters.` };
  if (!PRINTABLE.test(token)) return { kind: 'malformed', reason: 'The bearer token is malformed (a JWT is printable characters with no spaces).' };
  return { kind: 'bearer', token, via };
}

/** The value of the first cookie named `name` in a Cookie header, within the bounds above. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header || header.length > MAX_COOKIE_HEADER_LENGTH) return undefined;
  const pairs = header.split(';', MAX_COOKIES);
  for (const pair of pairs) {
    const equals = pair.indexOf('=');
    if (equals < 0 || pair.slice(0, equals).trim() !== name) continue;
    const raw = pair.slice(equals + 1).trim();
    const unquoted = raw.length >= 2 && raw.startsWith('"') && raw.endsWith('"') ? raw.slice(1, -1) : raw;
    return unquoted === '' ? undefined : unquoted;
  }
  return undefined;
}

/**
 * Reads the one credential of a request. `cookies` are the cookie names configured issuers read a
 * token from (`auth.jwt.issuers[].cookie`), looked at only when no other credential is sent.
 */
export function readCredential(headers: CredentialHeaders | IncomingHttpHeaders, cookies: readonly string[] = []): Credential {
  const keyHeader = single(headers[API_KEY_HEADER]);
  const authorization = single(headers['authorization']);
  if (Array.isArray(keyHeader) || Array.isArray(authorization)) return { kind: 'malformed', reason: 'The request repeats a credential header: send one x-api-key or one Authorization header.' };
  if (keyHeader !== undefined && authorization !== undefined) {
    return { kind: 'malformed', reason: 'The request sends both x-api-key and Authorization: send one credential.' };
  }
  if (keyHeader !== undefined) {
    // Node joins repeated x-api-key headers with ", ", which the printable check refuses.
    return keyHeader.trim() === '' ? { kind: 'malformed', reason: 'The x-api-key header is empty: send the API key in it.' } : apiKey(keyHeader.trim(), 'x-api-key');
  }
  if (authorization !== undefined) {
    const match = /^\s*([A-Za-z][A-Za-z0-9_-]*)(?:\s+(.*?))?\s*$/.exec(authorization);
    const scheme = match?.[1]?.toLowerCase();
    const value = match?.[2] ?? '';
    if (scheme === 'apikey') return value === '' ? { kind: 'malformed', reason: 'Authorization: ApiKey needs the key after the scheme: "Authorization: ApiKey <key>".' } : apiKey(value, 'authorization');
    if (scheme === 'bearer') return value === '' ? { kind: 'malformed', reason: 'Authorization: Bearer needs the token after the scheme: "Authorization: Bearer <token>".' } : bearer(value, 'authorization');
    return { kind: 'malformed', reason: 'The Authorization header is not one this gateway reads: send "Authorization: ApiKey <key>", "Authorization: Bearer <token>" or an x-api-key header.' };
  }
  const cookieHeader = single(headers['cookie']);
  const cookieText = Array.isArray(cookieHeader) ? cookieHeader.join('; ') : cookieHeader;
  for (const name of cookies) {
    const token = cookieValue(cookieText, name);
    if (token !== undefined) return bearer(token, 'cookie');
  }
  return { kind: 'none' };
}
