/**
 * The keys a JWT issuer publishes at its JWKS URL, fetched and kept the way OpenID Connect asks:
 * fetched on first use, fetched again once they are older than the refresh interval, and fetched
 * once more when a token names a key id the set does not hold (the issuer rotated its keys), but
 * never more often than the cooldown allows, so that a flood of made-up key ids costs the issuer
 * at most one fetch per cooldown.
 *
 * jose's `createRemoteJWKSet` has the same policy, and is not used because of two things it
 * cannot be told: it reads `Date.now()` for the refresh and the cooldown (the product reads time
 * through an injected Clock, which tests move), and it reads a JWKS answer to its end whatever its
 * length. jose still does the rest: `createLocalJWKSet` picks the key for a token's header.
 */
import { createLocalJWKSet, errors, type JSONWebKeySet, type JWK, type JWTVerifyGetKey } from 'jose';
import { Agent, request, type Dispatcher } from 'undici';
import type { Clock } from '../time/clock';

/** A JWKS larger than this is refused unread: real ones hold a few keys, a few KiB. */
export const MAX_JWKS_BYTES = 256 * 1024;
/** Keys past this many in one JWKS are ignored. */
export const MAX_JWKS_KEYS = 100;

export interface RemoteKeySetOptions {
  /** Keys older than this are fetched again on next use, in milliseconds. */
  refreshMs: number;
  /** The least time between two fetches, in milliseconds. */
  cooldownMs: number;
  /** A fetch that takes longer (to connect, to answer, to send its body) fails, in milliseconds. */
  timeoutMs: number;
  /** What the refresh and the cooldown are measured on. */
  clock: Clock;
  /** Told of each fetch that failed (the keys held before stay in use). */
  onFetchError?: (error: Error) => void;
}

/** The issuer's keys could not be fetched (no answer in time, not 200, not a JWKS, too large). */
export class JwksFetchError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'JwksFetchError';
  }
}

type Body = Dispatcher.ResponseData['body'];

/** Drops an answer that is not read (destroying it reports an abort, which nobody waits for). */
function discard(body: Body): void {
  body.on('error', () => undefined);
  body.destroy();
}

/** The JWKS answer, read up to its bound. */
async function readBounded(body: Body, url: string): Promise<string> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of body) {
    const buffer = chunk as Buffer;
    length += buffer.length;
    if (length > MAX_JWKS_BYTES) {
      discard(body);
      throw new JwksFetchError(`The JWKS at ${url} is longer than ${MAX_JWKS_BYTES} bytes`);
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * The signing keys of a JWKS document: only public keys meant for signatures (a symmetric key
 * in a JWKS is never used, whatever a token's header says), at most MAX_JWKS_KEYS of them.
 */
function signingKeys(document: unknown, url: string): JSONWebKeySet {
  const keys = (document as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys)) throw new JwksFetchError(`The answer of ${url} is not a JWKS ({ "keys": [...] })`);
  const usable = keys
    .slice(0, MAX_JWKS_KEYS)
    .filter((key): key is JWK => typeof key === 'object' && key !== null && !Array.isArray(key))
    .filter((key) => key.kty !== 'oct' && (key.use === undefined || key.use === 'sig') && typeof key.d !== 'string');
  return { keys: usable };
}

/** The keys of one JWKS URL; `getKey` is what jose's `jwtVerify` takes. */
export class RemoteKeySet {
  private local: ReturnType<typeof createLocalJWKSet> | undefined;
  /** When the keys held were fetched (Clock.now()). */
  private fetchedAt = -Infinity;
  /** When the last fetch began, whether it succeeded or not. */
  private attemptedAt = -Infinity;
  private pending: Promise<void> | undefined;
  private lastError: JwksFetchError | undefined;
  private readonly dispatcher: Agent;
  private readonly href: string;

  constructor(
    private readonly url: URL,
    private readonly options: RemoteKeySetOptions,
  ) {
    this.href = url.href;
    // A pool of its own, so that closing the verifier closes its connections.
    this.dispatcher = new Agent({ connect: { timeout: options.timeoutMs }, headersTimeout: options.timeoutMs, bodyTimeout: options.timeoutMs, connections: 2 });
  }

  private coolingDown(): boolean {
    return this.options.clock.now() - this.attemptedAt < this.options.cooldownMs;
  }

  readonly getKey: JWTVerifyGetKey = async (header, token) => {
    if (!this.local || this.options.clock.now() - this.fetchedAt >= this.options.refreshMs) await this.refresh();
    try {
      return await this.local!(header, token);
    } catch (error) {
      if (!(error instanceof errors.JWKSNoMatchingKey)) throw error;
      // A key the set does not hold: perhaps rotated in since the last fetch. A fetch under way
      // is waited for; a new one starts only once the cooldown is over.
      if (this.pending) await this.pending.catch(() => undefined);
      else if (!this.coolingDown()) await this.fetchOnce().catch(() => undefined);
      else throw error;
      return this.local!(header, token);
    }
  };

  /**
   * Fetches when the keys are missing or old. When the fetch fails, keys fetched before stay in
   * use (an issuer briefly down does not lock every caller out); with none, the token is refused.
   */
  private async refresh(): Promise<void> {
    if (this.pending) return this.pending.catch(() => this.haveKeys());
    // A fetch that failed a moment ago is not repeated for every token meanwhile.
    if (this.coolingDown()) return this.haveKeys();
    await this.fetchOnce().catch(() => this.haveKeys());
  }

  private haveKeys(): void {
    if (this.local) return;
    throw this.lastError ?? new JwksFetchError(`The JWKS at ${this.href} could not be fetched`);
  }

  /** One fetch at a time; each one, successful or not, starts the cooldown. */
  private fetchOnce(): Promise<void> {
    this.pending ??= (async () => {
      this.attemptedAt = this.options.clock.now();
      try {
        const keys = await this.fetch();
        this.local = createLocalJWKSet(keys);
        this.fetchedAt = this.options.clock.now();
        this.lastError = undefined;
      } catch (error) {
        const failure = error instanceof JwksFetchError ? error : new JwksFetchError(`The JWKS at ${this.href} could not be fetched: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
        this.lastError = failure;
        this.options.onFetchError?.(failure);
        throw failure;
      } finally {
        this.pending = undefined;
      }
    })();
    return this.pending;
  }

  private async fetch(): Promise<JSONWebKeySet> {
    const response = await request(this.url, {
      method: 'GET',
      headers: { accept: 'application/jwk-set+json, application/json' },
      dispatcher: this.dispatcher,
      // The whole exchange is bounded, not only each of its phases.
      // No redirect is followed: undici's request follows none unless told to.
      signal: AbortSignal.timeout(this.options.timeoutMs),
    });
    if (response.statusCode !== 200) {
      discard(response.body);
      throw new JwksFetchError(`The JWKS at ${this.href} answered ${response.statusCode}`);
    }
    const declared = Number(response.headers['content-length'] ?? 0);
    if (declared > MAX_JWKS_BYTES) {
      discard(response.body);
      throw new JwksFetchError(`The JWKS at ${this.href} is ${declared} bytes; at most ${MAX_JWKS_BYTES} are read`);
    }
    const text = await readBounded(response.body, this.href);
    let document: unknown;
    try {
      document = JSON.parse(text);
    } catch {
      throw new JwksFetchError(`The answer of ${this.href} is not JSON`);
    }
    return signingKeys(document, this.href);
  }

  close(): Promise<void> {
    return this.dispatcher.close();
  }
}
