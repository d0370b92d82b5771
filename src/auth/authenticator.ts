/**
 * Who calls `/graphql`, decided from the request's headers before graphql-yoga reads anything:
 * a static API key, a managed API key (created at run time, kept in the registry store), a bearer
 * token (through the configured `BearerVerifier`), or, only when `auth.anonymous` is declared, an
 * anonymous caller with the declared scopes. Anything else is refused with UNAUTHENTICATED (401)
 * and a `WWW-Authenticate` challenge naming what to send; no message repeats what was sent.
 */
import type { ClientAuthDefinition } from '../config/definition/client-auth';
import { CODES, isVirtualizeError, VirtualizeError } from '../errors';
import type { BearerVerifier, Caller } from './caller';
import { readCredential, type CredentialHeaders } from './credentials';
import { keyDigest, matchStaticKey, staticKeys, type StaticKey } from './static-keys';

export const AUTH_REALM = 'virtualize';

/** What a managed key resolves to; `undefined` when no such key is active. */
export interface ManagedKeyLookup {
  authenticate(key: string): Promise<Caller | undefined>;
  close?(): void;
}

export interface AuthenticatorOptions {
  config: ClientAuthDefinition;
  /** Where the static keys' variables are read from, once. */
  env: NodeJS.ProcessEnv;
  /** Managed keys (`auth.apiKeys.managed`); without it only static keys are known. */
  managedKeys?: ManagedKeyLookup;
  /** Verifies bearer tokens (`auth.jwt.issuers`); without it a bearer token is refused. */
  bearer?: BearerVerifier;
}

/** What a request is authenticated from: its headers and the address it came from. */
export interface AuthenticationRequest {
  headers: CredentialHeaders;
  address: string | undefined;
}

/** A refusal of `/graphql` before yoga reads the request: 401 UNAUTHENTICATED with its challenge. */
export class Unauthenticated extends VirtualizeError<typeof CODES.UNAUTHENTICATED> {
  constructor(message: string, challenge: string, data: Readonly<Record<string, unknown>> = {}) {
    super(CODES.UNAUTHENTICATED, message, data, { headers: { 'www-authenticate': challenge } });
    this.name = 'Unauthenticated';
  }
}

function apiKeyCaller(name: string, scopes: readonly string[]): Caller {
  return { kind: 'apiKey', clientId: `key:${name}`, subject: name, tenant: undefined, keyId: name, issuer: undefined, scopes: new Set(scopes), claims: {} };
}

/** An anonymous caller: one per address, so that anonymous callers share one budget per address. */
export function anonymousCaller(address: string | undefined, scopes: readonly string[]): Caller {
  return { kind: 'anonymous', clientId: `anonymous:${address ?? 'unknown'}`, subject: undefined, tenant: undefined, keyId: undefined, issuer: undefined, scopes: new Set(scopes), claims: {} };
}

export class Authenticator {
  private readonly keys: readonly StaticKey[];
  private readonly cookies: readonly string[];
  private readonly anonymousScopes: readonly string[] | undefined;
  private readonly withBearer: boolean;
  /** The challenge of every refusal: the schemes this gateway reads. */
  readonly challenge: string;

  constructor(private readonly options: AuthenticatorOptions) {
    const { config, env } = options;
    this.keys = staticKeys(config.apiKeys.static, env);
    this.cookies = [...new Set(config.jwt.issuers.flatMap((issuer) => (issuer.cookie ? [issuer.cookie] : [])))];
    this.anonymousScopes = config.anonymous?.scopes;
    this.withBearer = config.jwt.issuers.length > 0;
    this.challenge = this.challengeFor(false);
  }

  /** How many static keys are active (their variable set). */
  get activeStaticKeys(): number {
    return this.keys.length;
  }

  private challengeFor(invalidToken: boolean): string {
    const challenges = [`ApiKey realm="${AUTH_REALM}"`];
    if (this.withBearer) challenges.push(`Bearer realm="${AUTH_REALM}"${invalidToken ? ', error="invalid_token"' : ''}`);
    return challenges.join(', ');
  }

  private refuse(message: string, invalidToken = false, data: Readonly<Record<string, unknown>> = {}): Unauthenticated {
    return new Unauthenticated(message, invalidToken ? this.challengeFor(true) : this.challenge, data);
  }

  /** Whether callers without a credential are let in (`auth.anonymous`). */
  get allowsAnonymous(): boolean {
    return this.anonymousScopes !== undefined;
  }

  /** Whether the request carries any credential, readable or not. */
  carriesCredential(headers: CredentialHeaders): boolean {
    return readCredential(headers, this.cookies).kind !== 'none';
  }

  /** The refusal of a request that sent no credential. */
  noCredential(): Unauthenticated {
    return this.refuse(`This gateway needs a credential. ${this.howToAuthenticate}`);
  }

  /** What to send, for a request that sent nothing. */
  private get howToAuthenticate(): string {
    return this.withBearer
      ? 'Send an API key ("x-api-key: <key>" or "Authorization: ApiKey <key>") or a token ("Authorization: Bearer <token>").'
      : 'Send an API key: "x-api-key: <key>" or "Authorization: ApiKey <key>".';
  }

  /** The caller of a request, or a rejection with `Unauthenticated` (other failures reject as they are). */
  async authenticate(request: AuthenticationRequest): Promise<Caller> {
    const credential = readCredential(request.headers, this.cookies);
    switch (credential.kind) {
      case 'none':
        if (this.anonymousScopes) return anonymousCaller(request.address, this.anonymousScopes);
        throw this.noCredential();
      case 'malformed':
        throw this.refuse(credential.reason);
      case 'apiKey': {
        const found = matchStaticKey(this.keys, keyDigest(credential.key));
        if (found) return apiKeyCaller(found.name, found.scopes);
        const managed = await this.options.managedKeys?.authenticate(credential.key);
        if (managed) return managed;
        throw this.refuse('The API key is not one this gateway knows (or it was revoked or has expired): send a current key, or ask an administrator for one.');
      }
      case 'bearer': {
        const verifier = this.options.bearer;
        if (!verifier) throw this.refuse('This gateway takes no bearer tokens (no auth.jwt.issuers is configured): send an API key, "x-api-key: <key>".', true);
        try {
          return await verifier.verify(credential.token);
        } catch (error) {
          // The verifier's reason (expired, bad_signature, ...) stays beside the code.
          if (isVirtualizeError(error) && error.code === CODES.UNAUTHENTICATED) throw this.refuse(error.message, true, error.data);
          throw error;
        }
      }
    }
  }

  close(): void {
    this.options.managedKeys?.close?.();
    this.options.bearer?.close();
  }
}
