import DataLoader from 'dataloader';
import type { MappingStore } from './mapping-store';

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
      loader = new DataLoader(async (values) => {
        const partners = await this.store[direction](mapping, values);
        return values.map((value) => partners.get(value) ?? []);
      });
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
}
