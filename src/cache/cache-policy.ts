import { createHash } from 'node:crypto';
import type { CacheDefinition, CachePolicy, SourceDefinition } from '../config/definition';

/** How long one entity's records stay fresh, and how long past that they may still be served. */
export interface ResolvedPolicy {
  ttlMs: number;
  staleWhileRevalidateMs: number;
  staleIfErrorMs: number;
}

/**
 * Entity over source over config: each field falls back to the next. An entity that answers
 * service crosswalks (`crosswalkTtlMs`, their shortest `cacheTtlMs`) is fresh for exactly that
 * long and never served stale while it refreshes; a value past it is served only when the service
 * fails, within `staleIfErrorMs`, and the answer says so.
 */
export function resolvePolicy(defaults: CacheDefinition['upstream'], source: SourceDefinition, entity: string, crosswalkTtlMs?: number): ResolvedPolicy {
  const layers: Array<CachePolicy | undefined> = [source.entities[entity]?.cache, source.cache];
  const pick = (field: keyof CachePolicy, fallback: number) => layers.map((layer) => layer?.[field]).find((v) => v !== undefined) ?? fallback;
  const staleIfErrorMs = pick('staleIfErrorMs', defaults.staleIfErrorMs);
  if (crosswalkTtlMs !== undefined) return { ttlMs: crosswalkTtlMs, staleWhileRevalidateMs: 0, staleIfErrorMs };
  return {
    ttlMs: pick('ttlMs', defaults.ttlMs),
    staleWhileRevalidateMs: pick('staleWhileRevalidateMs', defaults.staleWhileRevalidateMs),
    staleIfErrorMs,
  };
}

const fingerprints = new WeakMap<SourceDefinition, string>();

/**
 * A short digest of a source's definition: part of every key, so that records mapped by one
 * version of a definition are never served to another (after a registry update, on any replica).
 */
export function fingerprintOf(definition: SourceDefinition): string {
  let fingerprint = fingerprints.get(definition);
  if (fingerprint === undefined) {
    fingerprint = createHash('sha256').update(JSON.stringify(definition)).digest('base64url').slice(0, 12);
    fingerprints.set(definition, fingerprint);
  }
  return fingerprint;
}
