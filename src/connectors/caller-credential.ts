import { createHash } from 'node:crypto';
import type { ForwardCallerDefinition } from '../config/definition';
import { CODES } from '../errors';
import { SourceError } from './errors';

/**
 * The client a request is made for, as far as a source that forwards its caller (`forwardCaller`)
 * needs it: a plain value the server fills from the authenticated caller, so that the connectors
 * know nothing of authentication.
 */
export interface CallerCredential {
  /** Who calls, stably (the caller's client id): what that source's cached answers are kept apart by. */
  readonly subject: string;
  /** The bearer token the client authenticated with; absent for a caller without one (an API key, anonymous access). */
  readonly token: string | undefined;
}

/**
 * The headers that carry the caller's token to a source that forwards it. A caller without a
 * token is refused before any call: calling with the source's own credentials alone would answer
 * with the gateway's rights instead of the caller's.
 */
export function forwardedHeaders(forward: ForwardCallerDefinition, caller: CallerCredential | undefined, source: string, route: string): Record<string, string> {
  if (caller?.token === undefined) {
    throw new SourceError(
      CODES.SOURCE_CALLER_TOKEN_REQUIRED,
      source,
      route,
      `Source ${source} answers on behalf of each caller and needs the caller's bearer token: call with Authorization: Bearer <JWT> (an API key or anonymous access cannot act for a user there).`,
    );
  }
  return { [forward.header]: forward.header === 'authorization' ? `Bearer ${caller.token}` : caller.token };
}

/**
 * The partition of a forwarding source's cached answers for one caller: a digest, so that keys
 * (held in the shared tier too) never carry a subject in clear and cannot be confused with one another.
 */
export function callerPartition(caller: CallerCredential | undefined): string {
  return caller === undefined ? '-' : createHash('sha256').update(caller.subject, 'utf8').digest('base64url');
}
