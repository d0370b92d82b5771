/**
 * The upstream-call cache keeps, with each entry, the records its mapping left out, and every
 * lookup the entry answers says them again: a cached answer never passes for complete. Records
 * whose key field names no asked value go with one entry and keep the call's entries from being
 * stored, since no later lookup could tell them.
 */
import { UpstreamCache } from '../../src/cache/upstream-cache';
import type { CacheDefinition, SourceDefinition } from '../../src/config/definition';
import type { CanonicalRecord } from '../../src/connectors/record-mapper';
import type { RejectionSink } from '../../src/connectors/record-rejections';
import type { SourceConnector } from '../../src/connectors/source-connector';
import { ManualClock } from '../support/manual-clock';

const config: CacheDefinition['upstream'] = { enabled: true, maxBytes: 1_000_000, ttlMs: 60_000, staleWhileRevalidateMs: 0, staleIfErrorMs: 0 };
const REASON = 'segment: expected one of ENT, MM, found a string';

/** A connector whose values starting with `bad` have one record left out (claimed by that value), and, with `keyless`, one record no value claims. */
function fakeConnector(options: { keyless?: boolean } = {}) {
  const calls: string[][] = [];
  const connector = {
    name: 'crm',
    definition: { entities: { Customer: {} } } as unknown as SourceDefinition,
    crosswalkTtlMs: new Map<string, number>(),
    async lookup(entity: string, _field: string, values: readonly string[], _observe: unknown, _normalize: unknown, _onMaxAge: unknown, _caller: unknown, onRejected?: RejectionSink) {
      calls.push([...values]);
      const answer = new Map<string, CanonicalRecord[]>();
      for (const value of values) {
        if (value.startsWith('bad')) {
          onRejected?.({ source: 'crm', entity, reason: REASON }, 1, value);
          answer.set(value, []);
        } else answer.set(value, [{ id: value }]);
      }
      if (options.keyless) onRejected?.({ source: 'crm', entity, reason: 'id: required but missing' }, 1, undefined);
      return answer;
    },
  } as unknown as SourceConnector;
  return { connector, calls };
}

function told(): { sink: RejectionSink; lines: Array<{ reason: string; count: number }> } {
  const lines: Array<{ reason: string; count: number }> = [];
  return { lines, sink: (rejection, count) => lines.push({ reason: rejection.reason, count }) };
}

it('says the records left out again on every lookup an entry answers, without a call', async () => {
  const cache = new UpstreamCache(config, { clock: new ManualClock() });
  const { connector, calls } = fakeConnector();
  const first = told();
  const answer = await cache.lookup(connector, 'Customer', 'id', ['ok1', 'bad1'], undefined, 'none', undefined, first.sink);
  expect(answer.get('bad1')).toEqual([]);
  expect(first.lines).toEqual([{ reason: REASON, count: 1 }]);

  const again = told();
  await cache.lookup(connector, 'Customer', 'id', ['bad1', 'ok1'], undefined, 'none', undefined, again.sink);
  expect(calls).toEqual([['ok1', 'bad1']]);
  expect(again.lines).toEqual([{ reason: REASON, count: 1 }]);

  // A lookup of the clean key alone hears of nothing.
  const clean = told();
  await cache.lookup(connector, 'Customer', 'id', ['ok1'], undefined, 'none', undefined, clean.sink);
  expect(clean.lines).toEqual([]);
});

it('tells records no value claims once, and stores none of that call', async () => {
  const cache = new UpstreamCache(config, { clock: new ManualClock() });
  const { connector, calls } = fakeConnector({ keyless: true });
  const first = told();
  await cache.lookup(connector, 'Customer', 'id', ['ok1', 'ok2'], undefined, 'none', undefined, first.sink);
  expect(first.lines).toEqual([{ reason: 'id: required but missing', count: 1 }]);
  await cache.idle();
  const again = told();
  await cache.lookup(connector, 'Customer', 'id', ['ok2'], undefined, 'none', undefined, again.sink);
  // Called again: the first call's entries were handed out, not kept.
  expect(calls).toEqual([['ok1', 'ok2'], ['ok2']]);
  expect(again.lines).toEqual([{ reason: 'id: required but missing', count: 1 }]);
});
