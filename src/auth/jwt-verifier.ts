/**
 * JWT bearer tokens (`auth.jwt.issuers`), verified with jose. The token's `iss`, read before
 * anything is verified, only picks the issuer; the token is then verified against that issuer
 * alone: its pinned algorithms (never `none`; HS* only with a shared secret), its keys (a JWKS
 * URL, a configured public key, or the secret), its issuer and audience, and `exp` and `nbf` on
 * the gateway's wall clock with the issuer's leeway. A refusal says which check failed and never
 * repeats the token.
 */
import type { KeyObject } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { JwtIssuerDefinition } from '../config/definition/client-auth';
import { resolveEnv } from '../config/env';
import { CODES, VirtualizeError } from '../errors';
import type { Logger } from '../telemetry/logger';
import type { Clock } from '../time/clock';
import type { BearerVerifier, Caller } from './caller';
import { JwksFetchError, RemoteKeySet } from './jwks-key-set';
import { nameAt, scopesOf } from './jwt-claims';
import { importPublicKey, importSecret, issuerKeyError, jwksUrlOf } from './jwt-keys';

/** A token longer than this is refused unread; real ones are a few KiB at most. */
export const MAX_TOKEN_LENGTH = 16 * 1024;

/** Why a token was refused: `extensions.reason` of its UNAUTHENTICATED error. */
export type JwtRefusalReason =
  | 'token_too_large'
  | 'malformed_token'
  | 'unknown_issuer'
  | 'algorithm_not_allowed'
  | 'unknown_key'
  | 'bad_signature'
  | 'expired'
  | 'not_yet_valid'
  | 'wrong_issuer'
  | 'wrong_audience'
  | 'missing_claim'
  | 'invalid_token';

/** A token refused: 401 UNAUTHENTICATED with its reason, and the challenge RFC 6750 asks for. */
export class JwtRefusal extends VirtualizeError<typeof CODES.UNAUTHENTICATED, { reason: JwtRefusalReason }> {
  constructor(
    readonly reason: JwtRefusalReason,
    message: string,
  ) {
    super(CODES.UNAUTHENTICATED, message, { reason }, { headers: { 'www-authenticate': `Bearer realm="virtualize", error="invalid_token", error_description="${reason}"` } });
    this.name = 'JwtRefusal';
  }
}

export interface JwtVerifierDeps {
  /** Where the JWKS URL, the public key and the secret are read from. */
  env: NodeJS.ProcessEnv;
  /** `exp`, `nbf` and the leeway are checked on its wall clock; the JWKS refresh and cooldown on its monotonic one. */
  clock: Clock;
  /** Told of each JWKS fetch that failed. */
  logger?: Logger;
}

type IssuerKey = KeyObject | Uint8Array | JWTVerifyGetKey;

interface Issuer {
  readonly definition: JwtIssuerDefinition;
  readonly key: IssuerKey;
  readonly keySet: RemoteKeySet | undefined;
}

function openIssuer(definition: JwtIssuerDefinition, index: number, deps: JwtVerifierDeps): Issuer {
  const path = `auth.jwt.issuers[${index}]`;
  const read = (value: Parameters<typeof resolveEnv>[0], field: string): string => {
    try {
      return resolveEnv(value, deps.env);
    } catch (error) {
      throw issuerKeyError(`${path}.${field}`, error instanceof Error ? error.message : String(error));
    }
  };
  if (definition.secret !== undefined) return { definition, key: importSecret(read(definition.secret, 'secret'), definition.algorithms, `${path}.secret`), keySet: undefined };
  if (definition.publicKey !== undefined) return { definition, key: importPublicKey(read(definition.publicKey, 'publicKey'), definition.algorithms, `${path}.publicKey`), keySet: undefined };
  if (definition.jwksUrl === undefined) throw issuerKeyError(path, 'declare exactly one of jwksUrl, publicKey or secret');
  const url = jwksUrlOf(read(definition.jwksUrl, 'jwksUrl'), `${path}.jwksUrl`);
  const keySet = new RemoteKeySet(url, {
    refreshMs: definition.jwksRefreshMs,
    cooldownMs: definition.jwksCooldownMs,
    timeoutMs: definition.jwksTimeoutMs,
    clock: deps.clock,
    onFetchError: (error) => deps.logger?.warn({ issuer: definition.issuer, reason: error.message }, 'JWKS fetch failed; the keys fetched before stay in use'),
  });
  return { definition, key: keySet.getKey, keySet };
}

/** What a failed jose check means for the caller. */
function refusalOf(error: unknown, issuer: Issuer): VirtualizeError {
  const { issuer: name, audience, algorithms, leewaySeconds } = issuer.definition;
  if (error instanceof JwksFetchError) {
    const retryAfter = String(Math.max(1, Math.ceil(issuer.definition.jwksCooldownMs / 1_000)));
    return new VirtualizeError(CODES.AUTHENTICATION_UNAVAILABLE, `The keys of ${name} could not be fetched from its JWKS URL, so the token cannot be checked now: retry later.`, { issuer: name }, { headers: { 'retry-after': retryAfter } });
  }
  if (error instanceof errors.JWTExpired) return new JwtRefusal('expired', `The bearer token has expired (its exp is more than ${leewaySeconds} s past): get a new one from ${name}.`);
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.reason === 'missing') return new JwtRefusal('missing_claim', `The bearer token has no "${error.claim}" claim: tokens of ${name} must carry iss, aud and exp.`);
    if (error.claim === 'nbf' && error.reason === 'check_failed') return new JwtRefusal('not_yet_valid', `The bearer token is not valid yet (its nbf is more than ${leewaySeconds} s ahead of the gateway's clock).`);
    if (error.claim === 'aud') return new JwtRefusal('wrong_audience', `The bearer token is not meant for this gateway: its aud must name ${[audience].flat().join(' or ')}.`);
    if (error.claim === 'iss') return new JwtRefusal('wrong_issuer', `The bearer token's iss is not ${name}.`);
    return new JwtRefusal('malformed_token', `The bearer token's "${error.claim}" claim is not what a JWT carries there (a number of seconds for exp, nbf and iat).`);
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return new JwtRefusal('bad_signature', `The bearer token's signature does not verify with the keys of ${name}.`);
  if (error instanceof errors.JOSEAlgNotAllowed) return new JwtRefusal('algorithm_not_allowed', `Tokens of ${name} must be signed with ${algorithms.join(', ')}; this one is not.`);
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys)
    return new JwtRefusal('unknown_key', `The bearer token names a key that ${name} does not publish (checked against its JWKS, fetched again when the cooldown allows).`);
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid || error instanceof errors.JOSENotSupported) return new JwtRefusal('malformed_token', 'The bearer token is not a well-formed JWT (header.payload.signature, each base64url).');
  return new JwtRefusal('invalid_token', `The bearer token could not be verified with the keys of ${name}.`);
}

/** The token's header and claims, decoded without being verified: only to pick the issuer and check the algorithm first. */
function peek(token: string): { alg: unknown; iss: unknown } {
  try {
    return { alg: decodeProtectedHeader(token).alg, iss: decodeJwt(token).iss };
  } catch {
    throw new JwtRefusal('malformed_token', 'The bearer token is not a well-formed JWT (header.payload.signature, each base64url).');
  }
}

/**
 * A BearerVerifier for the configured issuers. Keys are read (and JWKS URLs checked) now, so that
 * a key that cannot verify its issuer's tokens stops the gateway from starting; JWKS are fetched
 * on first use. `close()` closes the JWKS connections.
 */
export function createJwtVerifier(definitions: readonly JwtIssuerDefinition[], deps: JwtVerifierDeps): BearerVerifier {
  const issuers = new Map<string, Issuer>();
  try {
    definitions.forEach((definition, index) => {
      if (issuers.has(definition.issuer)) throw issuerKeyError(`auth.jwt.issuers[${index}].issuer`, `${definition.issuer} is declared twice: one entry per issuer`);
      issuers.set(definition.issuer, openIssuer(definition, index, deps));
    });
  } catch (error) {
    for (const issuer of issuers.values()) void issuer.keySet?.close();
    throw error;
  }

  return {
    async verify(token: string): Promise<Caller> {
      if (token.length > MAX_TOKEN_LENGTH) throw new JwtRefusal('token_too_large', `The bearer token is longer than ${MAX_TOKEN_LENGTH} characters.`);
      const { alg, iss } = peek(token);
      const issuer = typeof iss === 'string' ? issuers.get(iss) : undefined;
      if (!issuer) {
        throw new JwtRefusal('unknown_issuer', typeof iss === 'string' ? 'The bearer token comes from an issuer this gateway does not accept (auth.jwt.issuers).' : 'The bearer token names no issuer (iss).');
      }
      const { definition } = issuer;
      // Checked before any key is looked up, so that `none` or a swapped algorithm never fetches a JWKS.
      if (typeof alg !== 'string' || !(definition.algorithms as readonly string[]).includes(alg)) throw refusalOf(new errors.JOSEAlgNotAllowed('alg'), issuer);
      let claims: JWTPayload;
      try {
        ({ payload: claims } = await jwtVerify(token, issuer.key as Parameters<typeof jwtVerify>[1], {
          issuer: definition.issuer,
          audience: definition.audience,
          algorithms: definition.algorithms,
          requiredClaims: ['iss', 'aud', 'exp'],
          clockTolerance: definition.leewaySeconds,
          currentDate: new Date(deps.clock.wallNow()),
        }));
      } catch (error) {
        throw refusalOf(error, issuer);
      }
      const subject = nameAt(claims, definition.subjectClaim);
      if (subject === undefined) throw new JwtRefusal('missing_claim', `The bearer token has no "${definition.subjectClaim}" claim naming its caller.`);
      return {
        kind: 'jwt',
        clientId: `jwt:${definition.issuer}#${subject}`,
        subject,
        tenant: definition.tenantClaim === undefined ? undefined : nameAt(claims, definition.tenantClaim),
        keyId: undefined,
        issuer: definition.issuer,
        scopes: scopesOf(claims, definition.scopesClaim),
        claims,
      };
    },
    close(): void {
      for (const issuer of issuers.values()) void issuer.keySet?.close();
    },
  };
}
