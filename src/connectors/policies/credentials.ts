/**
 * Authentication to a source: the credentials of its `auth` definition added to every attempt and,
 * for credentials that can be renewed (OAuth tokens), one renewal and one repeat of a call that the
 * source answered 401.
 */
import { interceptors, type Dispatcher } from 'undici';
import type { AuthDefinition } from '../../config/definition';
import { resolveEnv } from '../../config/env';
import type { Clock } from '../../time/clock';
import type { EgressGuard } from '../egress-guard';
import { callRecordOf } from './attempt';
import { refuse } from './forwarding-handler';
import { ClientCredentialsTokens } from './oauth-client-credentials';
import { retryableAnswer } from './retry';

/** Headers that authenticate one attempt, and which version of the credentials they carry. */
export interface Presented {
  headers: Record<string, string>;
  version: number;
}

export interface Credentials {
  /** Synchronous while a fixed secret or a cached token serves; a promise while a token is fetched. */
  present(): Presented | Promise<Presented>;
  /** Forgets credentials the source refused, unless newer ones were obtained since. Absent for fixed secrets. */
  renew?(refusedVersion: number): void;
  close(): Promise<void>;
}

/** The credentials of a source, resolved once from the environment; undefined for `none`. */
export function credentialsFor(
  source: string,
  auth: AuthDefinition,
  context: { origin: string; env: NodeJS.ProcessEnv; timeoutMs: number; connectTimeoutMs: number; clock?: Clock; egress?: EgressGuard },
): Credentials | undefined {
  const fixed = (headers: Record<string, string>): Credentials => ({ present: () => ({ headers, version: 0 }), close: async () => undefined });
  switch (auth.type) {
    case 'none':
      return undefined;
    case 'header':
      return fixed({ [auth.header.toLowerCase()]: resolveEnv(auth.value, context.env) });
    case 'bearer':
      return fixed({ authorization: `Bearer ${resolveEnv(auth.token, context.env)}` });
    case 'oauth2ClientCredentials':
      return new ClientCredentialsTokens({
        source,
        tokenUrl: new URL(resolveEnv(auth.tokenUrl, context.env), context.origin),
        clientId: resolveEnv(auth.clientId, context.env),
        clientSecret: resolveEnv(auth.clientSecret, context.env),
        secretName: auth.clientSecret.env,
        scope: auth.scope,
        renewBeforeExpiryMs: auth.renewBeforeExpiryMs,
        timeoutMs: context.timeoutMs,
        connectTimeoutMs: context.connectTimeoutMs,
        ...(context.clock ? { clock: context.clock } : {}),
        ...(context.egress ? { egress: context.egress } : {}),
      });
  }
}

/** The names of the environment variables that hold a source's secrets, for messages that say what to check. */
export function secretNames(auth: AuthDefinition): string[] {
  switch (auth.type) {
    case 'none':
      return [];
    case 'header':
      return [auth.value.env];
    case 'bearer':
      return [auth.token.env];
    case 'oauth2ClientCredentials':
      return [auth.clientSecret.env];
  }
}

function withHeaders(opts: Dispatcher.DispatchOptions, extra: Record<string, string>): Dispatcher.DispatchOptions {
  const current = opts.headers;
  if (current === null || current === undefined) return { ...opts, headers: extra };
  if (Array.isArray(current)) return { ...opts, headers: [...current, ...Object.entries(extra).flat()] };
  if (Symbol.iterator in current) return { ...opts, headers: [...(current as Iterable<[string, string]>), ...Object.entries(extra)] };
  return { ...opts, headers: { ...current, ...extra } };
}

/** Adds the source's credentials to every attempt; a token that cannot be obtained fails the attempt. */
export function authenticate(credentials: Credentials): Dispatcher.DispatcherComposeInterceptor {
  return (dispatch) => (opts, handler) => {
    const send = ({ headers, version }: Presented) => {
      const record = callRecordOf(opts);
      if (record) record.credentialsVersion = version;
      return dispatch(withHeaders(opts, headers), handler);
    };
    const presented = credentials.present();
    if (!(presented instanceof Promise)) return send(presented);
    presented.then(send, (error: Error) => refuse(handler, error));
    return true;
  };
}

/**
 * On a 401, renews the credentials once and repeats the call through every policy: an OAuth token
 * may be revoked or expire early. undici's retry handler does the repeating.
 */
export function renewOnUnauthorized(renew: (refusedVersion: number) => void): Dispatcher.DispatcherComposeInterceptor {
  return interceptors.retry({
    methods: ['GET', 'HEAD'],
    statusCodes: [401],
    maxRetries: 1,
    retry: (error, { state, opts }, callback) => {
      if (retryableAnswer(error)?.status !== 401 || state.counter > 1) return callback(error);
      renew(callRecordOf(opts)?.credentialsVersion ?? 0);
      callback(null);
    },
  });
}
