/**
 * The key a JWT issuer's tokens are checked against when it is configured rather than fetched: a
 * public key (PEM SPKI, or a JWK as JSON) or a shared secret for HS* algorithms. Each is read from
 * the environment once, when the gateway starts, and checked against the algorithms the issuer
 * is pinned to, so that a key that can never verify a token is a start-up error and not a stream
 * of refusals.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import type { JwtIssuerDefinition } from '../config/definition/client-auth';
import { CODES, VirtualizeError } from '../errors';

type Algorithm = JwtIssuerDefinition['algorithms'][number];

/** A refusal to start: the issuer's key, as configured, cannot verify its tokens. */
export function issuerKeyError(path: string, message: string): VirtualizeError {
  return new VirtualizeError(CODES.INVALID_DEFINITION, `${path}: ${message}`, { path });
}

/** Which key types verify which algorithm families. */
const KEY_TYPES: Record<string, readonly string[]> = { RS: ['rsa'], PS: ['rsa', 'rsa-pss'], ES: ['ec'], Ed: ['ed25519', 'ed448'] };
/** The curve each ES algorithm is defined on (node's names). */
const CURVES: Partial<Record<Algorithm, string>> = { ES256: 'prime256v1', ES384: 'secp384r1', ES512: 'secp521r1' };

/** PEM text from an environment variable, where newlines are often written as `\n`. */
function unescapeNewlines(text: string): string {
  return text.includes('\\n') && !text.includes('\n') ? text.replaceAll('\\n', '\n') : text;
}

/** A configured public key, as node's KeyObject (which jose takes as it is), checked against the algorithms. */
export function importPublicKey(text: string, algorithms: readonly Algorithm[], path: string): KeyObject {
  const trimmed = unescapeNewlines(text.trim());
  let key: KeyObject;
  if (trimmed.startsWith('{')) {
    let jwk: Record<string, unknown>;
    try {
      jwk = JSON.parse(trimmed) as Record<string, unknown>;
    } catch {
      throw issuerKeyError(path, 'the public key looks like a JWK but is not JSON: give a PEM (-----BEGIN PUBLIC KEY-----) or a JWK as JSON');
    }
    if (jwk.kty === 'oct') throw issuerKeyError(path, 'a symmetric JWK (kty "oct") is a shared secret: declare it as secret with HS* algorithms, or give the public key');
    if (typeof jwk.d === 'string') throw issuerKeyError(path, 'the JWK holds a private key (d): give the public key only');
    try {
      key = createPublicKey({ key: jwk as never, format: 'jwk' });
    } catch (error) {
      throw issuerKeyError(path, `the JWK is not a public key node can read (${error instanceof Error ? error.message : String(error)})`);
    }
  } else {
    if (/PRIVATE KEY-----/.test(trimmed)) throw issuerKeyError(path, 'this is a private key: give the issuer\'s public key (-----BEGIN PUBLIC KEY-----)');
    if (!trimmed.startsWith('-----BEGIN')) throw issuerKeyError(path, 'the public key is neither PEM (-----BEGIN PUBLIC KEY-----) nor a JWK as JSON');
    try {
      key = createPublicKey(trimmed);
    } catch (error) {
      throw issuerKeyError(path, `the PEM is not a public key node can read (${error instanceof Error ? error.message : String(error)})`);
    }
  }
  const type = key.asymmetricKeyType ?? 'unknown';
  for (const algorithm of algorithms) {
    const fits = KEY_TYPES[algorithm.slice(0, 2)] ?? [];
    if (!fits.includes(type)) throw issuerKeyError(path, `a key of type ${type} cannot verify ${algorithm}: pin the issuer to the algorithms its key signs with`);
    const curve = CURVES[algorithm];
    if (curve && key.asymmetricKeyDetails?.namedCurve !== curve) throw issuerKeyError(path, `${algorithm} needs a key on curve ${curve}, this one is on ${key.asymmetricKeyDetails?.namedCurve ?? 'another curve'}`);
  }
  return key;
}

/** Bytes a shared secret needs for an HS* algorithm: at least its hash's output (RFC 7518, 3.2). */
const SECRET_BYTES: Partial<Record<Algorithm, number>> = { HS256: 32, HS384: 48, HS512: 64 };

/** A configured shared secret, long enough for every HS* algorithm the issuer is pinned to. */
export function importSecret(text: string, algorithms: readonly Algorithm[], path: string): Uint8Array {
  const secret = new TextEncoder().encode(text);
  const needed = Math.max(...algorithms.map((algorithm) => SECRET_BYTES[algorithm] ?? 0));
  if (secret.length < needed) throw issuerKeyError(path, `the shared secret is ${secret.length} bytes; ${algorithms.join(', ')} needs at least ${needed} (a random string such as \`openssl rand -base64 48\`)`);
  return secret;
}

/** Plain HTTP only on the loopback: elsewhere anyone on the path could hand the gateway their own keys. */
export function jwksUrlOf(text: string, path: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw issuerKeyError(path, `the JWKS URL is not a URL: ${text}`);
  }
  const loopback = url.hostname === 'localhost' || url.hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(url.hostname);
  if (url.protocol === 'https:' || (url.protocol === 'http:' && loopback)) return url;
  throw issuerKeyError(path, `the JWKS URL must be https (plain http only on the loopback), not ${url.protocol}//${url.host}`);
}
