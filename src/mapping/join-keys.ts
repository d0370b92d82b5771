import { SpanStatusCode, trace } from '@opentelemetry/api';
import DataLoader from 'dataloader';
import { ATTR, SPAN } from '../telemetry/attributes';
import type { MappingStore } from './mapping-store';

// A no-op tracer unless tracing was started: then each store lookup is a span in the operation's
// trace, which matters once the store is a database a lookup waits for.
const tracer = trace.getTracer('virtualize');

/**
 * Per-request crosswalk lookups: every key asked in the same tick becomes one store query per
 * mapping and direction.
 */
export class CrosswalkLoaders {
  private readonly loaders = new Map<string, DataLoader<string, string[]>>();

  constructor(private readonly store: MappingStore) {}

  private loader(mapping: string, direction: 'forward' | 'reverse'): DataLoader<string, string[]> {
    const id = `${direction}:${mapping}`;
    let loader = this.loaders.get(id);
    if (!loader) {
      loader = new DataLoader((values) =>
        tracer.startActiveSpan(
          SPAN.crosswalk(mapping),
          { attributes: { [ATTR.mapping]: mapping, [ATTR.direction]: direction, [ATTR.batchSize]: values.length } },
          async (span) => {
            try {
              const partners = await this.store[direction](mapping, values);
              return values.map((value) => partners.get(value) ?? []);
            } catch (error) {
              span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.name : 'error' });
              throw error;
            } finally {
              span.end();
            }
          },
        ),
      );
      this.loaders.set(id, loader);
    }
    return loader;
  }

  /** The to-side partners of a from-side value (empty when it has none). */
  partners(mapping: string, fromValue: string): Promise<string[]> {
    return this.loader(mapping, 'forward').load(fromValue);
  }

  /** The from-side partners of a to-side value. */
  reversePartners(mapping: string, toValue: string): Promise<string[]> {
    return this.loader(mapping, 'reverse').load(toValue);
  }

  /**
   * The partners of every value of a list-valued key, one way or the other: their union, each
   * once, in the order of the values and then of each value's partners. Asked in the same tick as
   * every other key of the request, so still one store query per mapping and direction.
   */
  async partnersOfEach(mapping: string, direction: 'forward' | 'reverse', values: readonly string[]): Promise<string[]> {
    if (values.length === 0) return [];
    const loader = this.loader(mapping, direction);
    const partners = await Promise.all(values.map((value) => loader.load(value)));
    return [...new Set(partners.flat())];
  }
}
