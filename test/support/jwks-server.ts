/**
 * A JWT issuer for tests: key pairs made with jose, a JWKS served over HTTP on the loopback that
 * counts its fetches, and tokens signed with `SignJWT`. The keys it serves can be changed while it
 * runs (rotation), and it can be told to answer badly (down, too large, hanging).
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type JWK, type JWTPayload, type KeyLike } from 'jose';

export interface SigningKey {
  kid: string;
  privateKey: KeyLike;
  publicKey: KeyLike;
  jwk: JWK;
}

export async function signingKey(kid: string, alg = 'RS256'): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, privateKey, publicKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

export type JwksBehaviour = 'serve' | 'fail' | 'hang' | 'huge';

export interface JwksServer {
  readonly url: string;
  /** Requests the JWKS URL received. */
  fetches(): number;
  /** The keys served from now on. */
  serve(keys: readonly SigningKey[]): void;
  behave(behaviour: JwksBehaviour): void;
  close(): Promise<void>;
}

export async function startJwksServer(keys: readonly SigningKey[]): Promise<JwksServer> {
  let served = [...keys];
  let behaviour: JwksBehaviour = 'serve';
  let count = 0;
  const hanging = new Set<ServerResponse>();
  const server: Server = createServer((request, response) => {
    if (request.url !== '/.well-known/jwks.json') {
      response.writeHead(404).end();
      return;
    }
    count += 1;
    if (behaviour === 'fail') return void response.writeHead(503).end();
    if (behaviour === 'hang') return void hanging.add(response);
    if (behaviour === 'huge') {
      // Far past any bound a client should keep, and without a declared length.
      response.writeHead(200, { 'content-type': 'application/json' });
      const filler = Buffer.alloc(64 * 1024, 0x20);
      for (let index = 0; index < 32; index++) response.write(filler);
      return void response.end('{"keys":[]}');
    }
    const body = JSON.stringify({ keys: served.map((key) => key.jwk) });
    response.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    response.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    fetches: () => count,
    serve: (next) => {
      served = [...next];
    },
    behave: (next) => {
      behaviour = next;
    },
    close: async () => {
      for (const response of hanging) response.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A token from `key`, issued at `nowSeconds` and valid for `ttlSeconds`, with the claims given (set to undefined to leave one out). */
export function tokenFor(key: Pick<SigningKey, 'kid' | 'privateKey'>, claims: JWTPayload & { iss?: string; aud?: string | string[] }, nowSeconds: number, ttlSeconds = 300, alg = 'RS256'): Promise<string> {
  const payload: JWTPayload = { iat: nowSeconds, exp: nowSeconds + ttlSeconds, ...claims };
  for (const [name, value] of Object.entries(payload)) if (value === undefined) delete payload[name];
  return new SignJWT(payload).setProtectedHeader({ alg, kid: key.kid, typ: 'JWT' }).sign(key.privateKey);
}
