import { assertSeed, DEFAULT_SEED } from './random';

/**
 * Wraps a dataset generator so each seed is generated once per process. The datasets are large
 * (tens of thousands of records) and shared read-only between a sandbox server and the tests that
 * compute their expectations from it, so both must see the very same objects.
 */
export function memoizeBySeed<T>(generate: (seed: number) => T): (seed?: number) => T {
  const cache = new Map<number, T>();
  return (seed = DEFAULT_SEED) => {
    assertSeed(seed);
    let value = cache.get(seed);
    if (value === undefined) {
      value = generate(seed);
      cache.set(seed, value);
    }
    return value;
  };
}
