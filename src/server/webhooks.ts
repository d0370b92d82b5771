import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { LRUCache } from 'lru-cache';
import { entitiesOf, identitiesOf, valuesOf, type EntityRef } from '../cache/identities';
import type { ResponseStore } from '../cache/response-cache';
import type { CacheDefinition } from '../config/definition';
import { resolveEnv } from '../config/env';
import { CODES, VirtualizeError, type ErrorCode } from '../errors';
import type { Gateway } from '../federation/gateway';
import type { Logger } from '../telemetry/logger';
import { systemClock, type Clock } from '../time/clock';

/** The body of a change notification, as sources send it (and as `sources/sandbox/webhook.ts` signs it). */
export interface ChangeEvent {
  /** Unique per event: a retried or replayed delivery carries the same id and is applied once. */
  id: string;
  /** What happened, for the log: `order.created`. */
  type: string;
  /** Epoch milliseconds; refused when further than the tolerance from now. */
  occurredAt: number;
  /** The canonical entity, field and value that name what changed: `Order`, `customerRef`, `8812`. */
  entity: string;
  field: string;
  key: string;
}

/** What an accepted delivery answers; a refused one is thrown as a `VirtualizeError` instead. */
export interface WebhookReply {
  status: number;
  body: Record<string, unknown>;
}

export const MAX_WEBHOOK_BODY_BYTES = 64 * 1024;

/** The refusal of a body longer than `readRawBody` reads. */
export function webhookBodyTooLarge(): VirtualizeError {
  return new VirtualizeError(CODES.REQUEST_TOO_LARGE, `The webhook body is longer than ${MAX_WEBHOOK_BODY_BYTES} bytes.`);
}

/**
 * The body of a delivery, or `undefined` when it is longer than `MAX_WEBHOOK_BODY_BYTES`. A body
 * declared longer is not read at all; one that grows past the limit without a declared length is
 * read no further: the stream is paused (not destroyed, which would close the socket before the
 * refusal is written) and the 413 goes out with `connection: close`, so a sender can never hold
 * the unauthenticated endpoint busy by streaming forever.
 */
export function readRawBody(request: IncomingMessage): Promise<Buffer | undefined> {
  if (Number(request.headers['content-length'] ?? 0) > MAX_WEBHOOK_BODY_BYTES) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_WEBHOOK_BODY_BYTES) return void chunks.push(chunk);
      request.off('data', onData);
      request.pause();
      resolve(undefined);
    };
    request.on('data', onData);
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

/**
 * Outside sandbox mode, refuses to start when a declared webhook's secret is unset or is the
 * default its reference carries: that default is published with the configuration (the sandbox's
 * development secret), so anyone could sign deliveries with it and have the gateway call the
 * sources for each one.
 */
export function requireWebhookSecrets(webhooks: CacheDefinition['webhooks'], env: NodeJS.ProcessEnv): void {
  const unsafe = Object.entries(webhooks.secrets).flatMap(([source, ref]) => {
    if (typeof ref === 'string') return [];
    const value = env[ref.env];
    if (value === undefined || value === '') return [`${source} (${ref.env} is not set${ref.default === undefined ? '' : '; its default is the published sandbox secret'})`];
    if (ref.default !== undefined && value === ref.default) return [`${source} (${ref.env} holds the published sandbox secret)`];
    return [];
  });
  if (unsafe.length === 0) return;
  throw new VirtualizeError(
    CODES.WEBHOOK_SECRET_UNSAFE,
    `Refusing to start: the webhook secret of ${unsafe.join(', ')} is not a secret of your own. Set each variable to a long random value shared with its source, or remove the source from cache.webhooks.secrets. (virtualize start --sandbox uses the sandbox secrets.)`,
    { sources: Object.keys(webhooks.secrets) },
  );
}

export function signatureOf(secret: string, body: string | Buffer): string {
  return createHmac('sha256', secret).update(body).digest('hex');
}

function isEvent(value: unknown): value is ChangeEvent {
  const event = value as Partial<ChangeEvent> | null;
  return (
    typeof event === 'object' &&
    event !== null &&
    typeof event.id === 'string' &&
    event.id !== '' &&
    typeof event.type === 'string' &&
    typeof event.occurredAt === 'number' &&
    typeof event.entity === 'string' &&
    typeof event.field === 'string' &&
    (typeof event.key === 'string' || typeof event.key === 'number')
  );
}

/**
 * `POST /webhooks/:source`: checks the signature (HMAC-SHA256 of the raw body with the source's
 * secret), the timestamp (within the tolerance) and the event id (each applied once), then drops
 * everything cached about the thing the event names, in every system: upstream calls and answers.
 * A refused delivery is logged and changes nothing.
 */
export interface WebhookReceiverOptions {
  /** The live gateway: its configuration (secrets, tolerance), connectors and mappings. */
  gateway: Gateway;
  responses: ResponseStore;
  logger: Logger;
  env: NodeJS.ProcessEnv;
  /** Told of each applied invalidation (the shared tier drops its entries there and tells the other replicas). */
  onInvalidate?: (refs: EntityRef[]) => Promise<void>;
  /** What an event's timestamp is checked against (`wallNow()`) and applied ids age on (`now()`); default the process's clocks. */
  clock?: Clock;
  /** Told of each event's identity resolution (`/metrics`). */
  onResolution?: (source: string, outcome: ResolutionOutcome) => void;
}

export type ResolutionOutcome = 'resolved' | 'coalesced' | 'rate_limited';

/** A token bucket per webhook source: how many identity resolutions may start now. */
class ResolveRate {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly rate: CacheDefinition['webhooks']['resolveRate'],
    private readonly clock: Clock,
  ) {}

  /** Takes a token for `source`, or says in how many milliseconds one will be there. */
  take(source: string): number {
    const now = this.clock.now();
    const bucket = this.buckets.get(source) ?? { tokens: this.rate.burst, at: now };
    bucket.tokens = Math.min(this.rate.burst, bucket.tokens + ((now - bucket.at) * this.rate.perSecond) / 1000);
    bucket.at = now;
    this.buckets.set(source, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - bucket.tokens) * 1000) / this.rate.perSecond);
  }
}

export class WebhookReceiver {
  private readonly applied: LRUCache<string, true>;
  private readonly gateway: Gateway;
  private readonly responses: ResponseStore;
  private readonly logger: Logger;
  private readonly env: NodeJS.ProcessEnv;
  private readonly onInvalidate: (refs: EntityRef[]) => Promise<void>;
  private readonly clock: Clock;
  /**
   * Identity resolutions by record (source, entity, field, key), kept for `coalesceMs` from their
   * start: events about one record meanwhile share one resolution instead of calling the sources
   * again. A resolution that fails is dropped at once, so that a redelivery tries again.
   */
  private readonly resolutions: LRUCache<string, Promise<EntityRef[]>>;
  private readonly rate: ResolveRate;
  private readonly coalesceMs: number;
  private readonly onResolution: (source: string, outcome: ResolutionOutcome) => void;

  constructor(options: WebhookReceiverOptions) {
    this.gateway = options.gateway;
    this.responses = options.responses;
    this.logger = options.logger;
    this.env = options.env;
    this.onInvalidate = options.onInvalidate ?? (async () => undefined);
    this.clock = options.clock ?? systemClock;
    const tolerance = this.gateway.config.cache.webhooks.toleranceMs;
    // An id older than twice the tolerance could only come with a refused timestamp.
    this.applied = new LRUCache<string, true>({ max: 100_000, ttl: 2 * tolerance, perf: this.clock });
    const { coalesceMs, resolveRate } = this.gateway.config.cache.webhooks;
    // At most one entry per resolution the rate lets start within the window, per source.
    this.resolutions = new LRUCache<string, Promise<EntityRef[]>>({ max: 10_000, ttl: Math.max(coalesceMs, 1), perf: this.clock });
    this.rate = new ResolveRate(resolveRate, this.clock);
    this.coalesceMs = coalesceMs;
    this.onResolution = options.onResolution ?? (() => undefined);
  }

  /**
   * Applies one delivery, or throws the `VirtualizeError` it is refused with (each refusal but an
   * unknown source's is logged); anything else thrown is a failure to apply it.
   */
  async receive(source: string, headers: IncomingMessage['headers'], raw: Buffer): Promise<WebhookReply> {
    const settings = this.gateway.config.cache.webhooks;
    const secretRef = settings.secrets[source];
    if (!secretRef || !this.gateway.connectors.has(source)) throw new VirtualizeError(CODES.NOT_FOUND, `No webhook for source ${source}.`, { source });
    const refuse = (code: ErrorCode, reason: string): VirtualizeError => {
      this.logger.warn({ source, reason, code }, 'webhook refused');
      return new VirtualizeError(code, reason, { source });
    };
    const header = headers[settings.signatureHeader.toLowerCase()];
    const given = (Array.isArray(header) ? header[0] : header)?.replace(/^sha256=/, '') ?? '';
    const expected = signatureOf(resolveEnv(secretRef, this.env), raw);
    if (given.length !== expected.length || !timingSafeEqual(Buffer.from(given), Buffer.from(expected))) {
      throw refuse(CODES.WEBHOOK_SIGNATURE_INVALID, `The ${settings.signatureHeader} header is not the signature of this body with the secret of source ${source}.`);
    }
    let event: unknown;
    try {
      event = JSON.parse(raw.toString('utf8'));
    } catch {
      throw refuse(CODES.WEBHOOK_EVENT_INVALID, 'The body is not JSON.');
    }
    if (!isEvent(event)) throw refuse(CODES.WEBHOOK_EVENT_INVALID, 'The body is not a change event { id, type, occurredAt, entity, field, key }.');
    if (Math.abs(this.clock.wallNow() - event.occurredAt) > settings.toleranceMs) {
      throw refuse(CODES.WEBHOOK_TIMESTAMP_OUT_OF_TOLERANCE, `The event's occurredAt is further than ${settings.toleranceMs} ms from the gateway's clock.`);
    }
    const id = `${source}\u0000${event.id}`;
    if (this.applied.has(id)) {
      this.logger.info({ source, event: event.id }, 'webhook replayed; already applied');
      return { status: 200, body: { status: 'duplicate' } };
    }
    this.applied.set(id, true);
    const changed: EntityRef = { entity: event.entity, field: event.field, value: String(event.key) };
    let refs: EntityRef[];
    try {
      refs = await this.resolve(source, changed, event.id);
    } catch (error) {
      if (error instanceof VirtualizeError && error.code === CODES.WEBHOOK_RATE_LIMITED) throw error;
      // Not applied: a retried delivery must be applied then. A source that failed while the
      // change was followed to the records it names answers 503 (never its field-error 200), so
      // that the sender delivers the change again.
      this.applied.delete(id);
      if (!(error instanceof VirtualizeError) || !error.code.startsWith('SOURCE_')) throw error;
      throw new VirtualizeError(error.code, `The change was not applied: ${error.message}. Deliver it again.`, { ...error.data }, { status: 503, cause: error });
    }
    const dropped = this.invalidate(refs);
    await this.onInvalidate(refs);
    this.logger.info({ source, event: event.id, type: event.type, identities: refs.length, ...dropped }, 'webhook applied');
    return { status: 202, body: { status: 'applied', ...dropped } };
  }

  /**
   * Every value that names the changed record, shared with the events about the same record
   * within `coalesceMs`. A new resolution takes a token of the source's `resolveRate`; without
   * one, what the gateway knows without calling a source (the record's own value, its crosswalk
   * partners and normalized field keys) is dropped here and everywhere, and the delivery is
   * refused with 429 and `Retry-After`, not counted as applied, so that its redelivery completes it.
   */
  private async resolve(source: string, changed: EntityRef, eventId: string): Promise<EntityRef[]> {
    const key = JSON.stringify([source, changed.entity, changed.field, changed.value]);
    const shared = this.resolutions.get(key);
    if (shared) {
      this.onResolution(source, 'coalesced');
      return shared;
    }
    const waitMs = this.rate.take(source);
    if (waitMs > 0) {
      this.onResolution(source, 'rate_limited');
      this.applied.delete(`${source}\u0000${eventId}`);
      const known = await identitiesOf(changed, this.gateway.catalog, this.gateway.store, new Map());
      const dropped = this.invalidate(known);
      await this.onInvalidate(known);
      const retryAfter = Math.max(1, Math.ceil(waitMs / 1000));
      this.logger.warn({ source, event: eventId, identities: known.length, ...dropped, retryAfterSeconds: retryAfter }, 'webhook rate limited; applied to what is known');
      throw new VirtualizeError(
        CODES.WEBHOOK_RATE_LIMITED,
        `Source ${source} sends more changes than cache.webhooks.resolveRate lets the gateway follow through the other systems (${this.gateway.config.cache.webhooks.resolveRate.perSecond} per second). The change was applied to what the gateway knows without calling a source; deliver it again in ${retryAfter} s for the rest.`,
        { source, retryAfterSeconds: retryAfter },
        { headers: { 'retry-after': String(retryAfter) } },
      );
    }
    this.onResolution(source, 'resolved');
    const resolution = identitiesOf(changed, this.gateway.catalog, this.gateway.store, this.gateway.connectors);
    this.resolutions.set(key, resolution);
    const forget = () => {
      if (this.resolutions.get(key) === resolution) this.resolutions.delete(key);
    };
    // A failed resolution is never shared; with `coalesceMs: 0`, only events meanwhile share one.
    resolution.then(() => (this.coalesceMs === 0 ? forget() : undefined), forget);
    return resolution;
  }

  /**
   * An invalidation the shared tier relays (applied on some replica, this one included): dropped
   * here too, and logged, since nothing else shows that it arrived.
   */
  applyShared(refs: readonly EntityRef[]): void {
    const dropped = this.invalidate(refs);
    this.logger.info({ identities: refs.length, ...dropped }, 'shared invalidation applied');
  }

  /** Drops the upstream calls that asked for or returned any of `refs`' values, and the answers that show any entity they name. */
  invalidate(refs: readonly EntityRef[]): { upstream: number; responses: number } {
    return {
      upstream: this.gateway.upstreamCache.invalidateValues(valuesOf(refs)),
      responses: this.responses.drop(entitiesOf(refs, this.gateway.catalog)),
    };
  }
}
