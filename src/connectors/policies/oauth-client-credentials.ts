/**
 * OAuth 2.0 client credentials (RFC 6749, section 4.4) for one source: an access token asked for at
 * the token endpoint (client id and secret in HTTP Basic, section 2.3.1), kept until
 * `renewBeforeExpiryMs` before its `expires_in` runs out, and fetched once for all the calls that
 * need it at the same moment. Neither the secret nor a token ever appears in an error. The token
 * endpoint of a registered source connects through the source's egress guard, so the client
 * credentials never reach an address the policy refuses; its answer is bounded like any other.
 */
import { Pool } from 'undici';
import { systemClock, type Clock } from '../../time/clock';
import type { EgressGuard } from '../egress-guard';
import { EgressRefusedError, TokenRequestError } from '../errors';
import { errorCode, RESPONSE_TOO_LARGE } from '../failures';

/** Most bytes of a token endpoint's answer: a token answer is a few hundred bytes, a large JWT a few KiB. */
export const MAX_TOKEN_RESPONSE_BYTES = 64 * 1024;
import { withoutUpstreamRequest } from '../upstream-request';
import type { Credentials, Presented } from './credentials';

export interface ClientCredentialsOptions {
  source: string;
  tokenUrl: URL;
  clientId: string;
  clientSecret: string;
  /** The environment variable holding the secret, named in errors so that an operator knows what to check. */
  secretName: string;
  scope?: string;
  renewBeforeExpiryMs: number;
  timeoutMs: number;
  connectTimeoutMs: number;
  /** Measures a token's lifetime; default the process's clock. */
  clock?: Clock;
  /** The source's egress guard, for a registered source. */
  egress?: EgressGuard;
}

interface Token {
  value: string;
  /** The clock's monotonic ms from which the token is renewed before use. */
  renewAt: number;
  version: number;
}

function basic(id: string, secret: string): string {
  // RFC 6749 2.3.1: each part is form-urlencoded before the Basic encoding.
  const encode = (part: string) => encodeURIComponent(part).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${encode(id)}:${encode(secret)}`).toString('base64')}`;
}

export class ClientCredentialsTokens implements Credentials {
  private readonly pool: Pool;
  private readonly authorization: string;
  private token: Token | undefined;
  private fetching: Promise<Token> | undefined;
  private versions = 0;
  private readonly clock: Clock;

  constructor(private readonly options: ClientCredentialsOptions) {
    this.pool = new Pool(options.tokenUrl.origin, {
      connections: 1,
      connect: options.egress ? options.egress.connector(options.connectTimeoutMs) : { timeout: options.connectTimeoutMs },
      maxResponseSize: MAX_TOKEN_RESPONSE_BYTES,
    });
    this.authorization = basic(options.clientId, options.clientSecret);
    this.clock = options.clock ?? systemClock;
  }

  present(): Presented | Promise<Presented> {
    const token = this.token;
    if (token && this.clock.now() < token.renewAt) return presented(token);
    this.fetching ??= this.fetchToken().finally(() => {
      this.fetching = undefined;
    });
    return this.fetching.then(presented);
  }

  renew(refusedVersion: number): void {
    if (this.token?.version === refusedVersion) this.token = undefined;
  }

  close(): Promise<void> {
    return this.pool.close();
  }

  private async fetchToken(): Promise<Token> {
    const { source, tokenUrl, scope, secretName, timeoutMs, renewBeforeExpiryMs } = this.options;
    const at = `the token endpoint of source ${source}`;
    let status: number;
    let text: string;
    try {
      // Fetched for whichever call first needed it, but not that call: its span is the token endpoint's own.
      const response = await withoutUpstreamRequest(() =>
        this.pool.request({
          method: 'POST',
          path: tokenUrl.pathname + tokenUrl.search,
          headers: { authorization: this.authorization, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
          body: new URLSearchParams({ grant_type: 'client_credentials', ...(scope ? { scope } : {}) }).toString(),
          signal: AbortSignal.timeout(timeoutMs),
        }),
      );
      status = response.statusCode;
      text = await response.body.text();
    } catch (error) {
      // Refused before anything was sent: the source's call says why, in the egress policy's words.
      if (error instanceof EgressRefusedError) throw error;
      if (errorCode(error) === RESPONSE_TOO_LARGE) throw new TokenRequestError('bad-response', `${at} answered more than ${MAX_TOKEN_RESPONSE_BYTES} bytes`);
      throw new TokenRequestError('unreachable', `${at} could not be reached (${errorCode(error) ?? (error instanceof Error ? error.name : 'failed')})`);
    }
    if (status !== 200) {
      const kind = status >= 500 || status === 429 ? 'unreachable' : 'refused';
      throw new TokenRequestError(kind, kind === 'refused' ? `${at} refused the client credentials (${status}); check the client id and ${secretName}` : `${at} failed (${status})`, status);
    }
    let body: { access_token?: unknown; token_type?: unknown; expires_in?: unknown };
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      throw new TokenRequestError('bad-response', `${at} answered with a body that is not JSON`, status);
    }
    if (typeof body.access_token !== 'string' || body.access_token === '' || (typeof body.token_type === 'string' && body.token_type.toLowerCase() !== 'bearer')) {
      throw new TokenRequestError('bad-response', `${at} answered without a bearer access_token`, status);
    }
    // Without expires_in the token serves until the source refuses it (a 401 renews it).
    const lifetimeMs = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in * 1000 : Infinity;
    const renewAt = this.clock.now() + Math.max(lifetimeMs - renewBeforeExpiryMs, lifetimeMs / 2);
    this.token = { value: body.access_token, renewAt, version: ++this.versions };
    return this.token;
  }
}

function presented(token: Token): Presented {
  return { headers: { authorization: `Bearer ${token.value}` }, version: token.version };
}
