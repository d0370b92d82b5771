/**
 * API keys created at run time (`virtualize keys create`, the admin API's `createApiKey`): a key
 * is `vz_<id>_<secret>`, the id 12 lower-case base32 characters (what lists, logs, audit and
 * revocation name), the secret 32 random bytes in base64url. The registry store keeps the id and
 * the SHA-256 of the secret, never the key, which is shown once, when it is created.
 *
 * Lookups go through a short bounded cache (lru-cache, `CACHE_TTL_MS`): a revocation made on this
 * replica takes effect at once (its entry is dropped), one made on another replica within that
 * TTL. An expired key is refused on the injected clock. A use is written to the store at most
 * once a minute per key.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { CODES, VirtualizeError } from '../errors';
import { systemClock, type Clock } from '../time/clock';
import type { ManagedKeyLookup } from './authenticator';
import type { ApiKeyRecord, ApiKeyStore, Caller } from './caller';

/** How long a looked-up key is trusted before the store is asked again: the delay of a revocation made on another replica. */
export const CACHE_TTL_MS = 30_000;
/** A key's last use is written at most this often. */
export const TOUCH_INTERVAL_MS = 60_000;
const MAX_CACHED_KEYS = 10_000;
const KEY_FORMAT = /^vz_([a-z2-7]{12})_([A-Za-z0-9_-]{43})$/;
const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

function secretDigest(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

function newId(): string {
  // 12 characters of 32: 60 bits, each from one random byte (256 is a multiple of 32, so unbiased).
  return [...randomBytes(12)].map((byte) => BASE32[byte % 32]).join('');
}

/** The id and secret of a key in the managed format, or undefined. */
export function parseManagedKey(key: string): { id: string; secret: string } | undefined {
  const match = KEY_FORMAT.exec(key);
  return match ? { id: match[1]!, secret: match[2]! } : undefined;
}

/** What `createApiKey` answers: the record as listed, and the key itself, shown this once. */
export interface CreatedApiKey {
  key: string;
  record: ApiKeyRecord;
}

/** What a list shows of a key: never its digest. */
export type ApiKeyListing = Omit<ApiKeyRecord, 'digest'>;

export class ManagedKeys implements ManagedKeyLookup {
  private readonly cache: LRUCache<string, ApiKeyRecord | { absent: true }>;
  private readonly touched = new Map<string, number>();
  /** What creation dates, expiry and last use are read from. */
  readonly clock: Clock;

  constructor(
    private readonly store: ApiKeyStore,
    options: { clock?: Clock; onTouchError?: (error: unknown) => void } = {},
  ) {
    this.clock = options.clock ?? systemClock;
    this.onTouchError = options.onTouchError ?? (() => undefined);
    this.cache = new LRUCache({
      max: MAX_CACHED_KEYS,
      ttl: CACHE_TTL_MS,
      perf: this.clock,
      ttlResolution: 0,
      fetchMethod: async (id) => (await this.store.find(id)) ?? { absent: true },
    });
  }

  private readonly onTouchError: (error: unknown) => void;

  /** Creates a key; the key itself is in the answer only. */
  async create(input: { name: string; scopes: readonly string[]; expiresAt: string | null }): Promise<CreatedApiKey> {
    const id = newId();
    const secret = randomBytes(32).toString('base64url');
    const record: ApiKeyRecord = {
      id,
      name: input.name,
      scopes: [...input.scopes],
      digest: secretDigest(secret),
      createdAt: new Date(this.clock.wallNow()).toISOString(),
      lastUsedAt: null,
      expiresAt: input.expiresAt,
      revokedAt: null,
    };
    await this.store.create(record);
    this.cache.delete(id);
    return { key: `vz_${id}_${secret}`, record };
  }

  async list(): Promise<ApiKeyListing[]> {
    return (await this.store.list()).map(({ digest: _digest, ...listing }) => listing);
  }

  /** Revokes a key; on this replica at once. False when there is no such key. */
  async revoke(id: string): Promise<boolean> {
    const revoked = await this.store.revoke(id, new Date(this.clock.wallNow()).toISOString());
    this.cache.delete(id);
    return revoked;
  }

  async authenticate(key: string): Promise<Caller | undefined> {
    const parsed = parseManagedKey(key);
    if (!parsed) return undefined;
    const slot = await this.cache.fetch(parsed.id);
    if (!slot || 'absent' in slot) return undefined;
    const presented = Buffer.from(secretDigest(parsed.secret), 'hex');
    const kept = Buffer.from(slot.digest, 'hex');
    if (kept.length !== presented.length || !timingSafeEqual(presented, kept)) return undefined;
    const now = this.clock.wallNow();
    if (slot.revokedAt !== null) return undefined;
    if (slot.expiresAt !== null && Date.parse(slot.expiresAt) <= now) return undefined;
    this.noteUse(slot.id, now);
    return { kind: 'apiKey', clientId: `key:${slot.id}`, subject: slot.name, tenant: undefined, keyId: slot.id, issuer: undefined, scopes: new Set(slot.scopes), claims: {} };
  }

  /** Writes the use at most once a minute per key, without holding the request up. */
  private noteUse(id: string, now: number): void {
    const last = this.touched.get(id);
    if (last !== undefined && now - last < TOUCH_INTERVAL_MS) return;
    if (this.touched.size >= MAX_CACHED_KEYS) this.touched.clear();
    this.touched.set(id, now);
    this.store.touch(id, new Date(now).toISOString()).catch(this.onTouchError);
  }

  close(): void {
    this.cache.clear();
  }
}

/** A refusal of a key management request: what is wrong with the input. */
export function invalidKeyInput(message: string): VirtualizeError {
  return new VirtualizeError(CODES.BAD_USER_INPUT, message);
}
