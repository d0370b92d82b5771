/**
 * Authentication as the sandbox systems enforce it: a system's API answers 401 without valid
 * credentials, as the real one would.
 *
 * - `apiKey`: a fixed key in a header on every request.
 * - `oauth2ClientCredentials`: `POST /oauth/token` (RFC 6749, section 4.4; client id and secret in
 *   HTTP Basic or in the form) issues bearer tokens that expire after `tokenTtlSeconds`; the
 *   token endpoint stands for a separate authorization server, so its requests are counted apart
 *   (`tokenRequests`) and no fault knob but an outage touches it.
 *
 * The default credentials are the sandbox's own development secrets; the gateway's configuration
 * reads them from the environment with these as defaults.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { systemClock, type Clock } from '../../src/time/clock';

export type SandboxAuth =
  | { kind: 'none' }
  | { kind: 'apiKey'; header: string; key: string }
  | { kind: 'oauth2ClientCredentials'; clientId: string; clientSecret: string; tokenTtlSeconds: number };

/** The development secrets of the sandbox systems (nothing else accepts them). */
export const SANDBOX_CREDENTIALS = {
  crm: { header: 'x-api-key', apiKey: 'sandbox-crm-api-key' },
  support: { clientId: 'virtualize-gateway', clientSecret: 'sandbox-support-client-secret', tokenTtlSeconds: 3600 },
} as const;

export const TOKEN_PATH = '/oauth/token';
const MAX_LIVE_TOKENS = 10_000;

export interface TokenReply {
  status: number;
  body: unknown;
  headers: Record<string, string>;
}

function same(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

export class AuthGuard {
  /** Live tokens and when each expires (epoch ms, on the clock's wall scale). */
  private readonly tokens = new Map<string, number>();
  tokenRequests = 0;

  constructor(
    readonly auth: SandboxAuth,
    private readonly clock: Clock = systemClock,
  ) {}

  get issuesTokens(): boolean {
    return this.auth.kind === 'oauth2ClientCredentials';
  }

  /** Undefined when the request may pass; otherwise why it is refused, and the challenge to send. */
  check(headers: IncomingHttpHeaders): { reason: string; challenge?: string } | undefined {
    const auth = this.auth;
    switch (auth.kind) {
      case 'none':
        return undefined;
      case 'apiKey': {
        const key = single(headers[auth.header]);
        return key !== undefined && same(key, auth.key) ? undefined : { reason: `a valid API key in the ${auth.header} header is required` };
      }
      case 'oauth2ClientCredentials': {
        const match = /^Bearer (\S+)$/i.exec(single(headers.authorization) ?? '');
        const expires = match ? this.tokens.get(match[1]!) : undefined;
        if (expires !== undefined && expires > this.clock.wallNow()) return undefined;
        return { reason: 'a valid bearer token is required; get one at POST /oauth/token', challenge: 'Bearer error="invalid_token"' };
      }
    }
  }

  /** `POST /oauth/token`, answered as RFC 6749 section 5 says. */
  issueToken(headers: IncomingHttpHeaders, body: string): TokenReply {
    this.tokenRequests += 1;
    const auth = this.auth;
    if (auth.kind !== 'oauth2ClientCredentials') return { status: 404, body: { error: 'not_found' }, headers: {} };
    const form = new URLSearchParams(body);
    if (form.get('grant_type') !== 'client_credentials') {
      return { status: 400, body: { error: 'unsupported_grant_type', error_description: 'only client_credentials is supported' }, headers: {} };
    }
    const client = this.client(headers, form);
    if (!client || !same(client.id, auth.clientId) || !same(client.secret, auth.clientSecret)) {
      return { status: 401, body: { error: 'invalid_client' }, headers: { 'www-authenticate': 'Basic realm="sandbox"' } };
    }
    const token = randomBytes(24).toString('base64url');
    this.prune();
    this.tokens.set(token, this.clock.wallNow() + auth.tokenTtlSeconds * 1000);
    return {
      status: 200,
      body: { access_token: token, token_type: 'Bearer', expires_in: auth.tokenTtlSeconds },
      headers: { 'cache-control': 'no-store' },
    };
  }

  /** The tokens that still work: tests search logs and traces for them. */
  liveTokens(): string[] {
    return [...this.tokens.keys()];
  }

  /** Every token issued so far stops working: the next call with one is answered 401. */
  revokeTokens(): void {
    this.tokens.clear();
  }

  private client(headers: IncomingHttpHeaders, form: URLSearchParams): { id: string; secret: string } | undefined {
    const basic = /^Basic (\S+)$/i.exec(single(headers.authorization) ?? '');
    if (basic) {
      const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0) return undefined;
      const decode = (part: string) => decodeURIComponent(part.replace(/\+/g, ' '));
      try {
        return { id: decode(decoded.slice(0, colon)), secret: decode(decoded.slice(colon + 1)) };
      } catch {
        return undefined;
      }
    }
    const id = form.get('client_id');
    const secret = form.get('client_secret');
    return id !== null && secret !== null ? { id, secret } : undefined;
  }

  private prune(): void {
    const now = this.clock.wallNow();
    for (const [token, expires] of this.tokens) if (expires <= now) this.tokens.delete(token);
    // A client that never reuses its token must not grow the map without bound.
    while (this.tokens.size >= MAX_LIVE_TOKENS) this.tokens.delete(this.tokens.keys().next().value!);
  }
}
