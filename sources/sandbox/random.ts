/**
 * Deterministic randomness for the sandbox datasets.
 *
 * Every dataset is a pure function of its seed, so a test can rebuild in-process the exact data a
 * sandbox server is serving and compute its expectations from it. Math.random is never used.
 */

/** A seeded source of pseudo-random numbers with the few distributions the generators need. */
export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [min, max], both inclusive. */
  int(min: number, max: number): number;
  /** True with probability p. */
  chance(p: number): boolean;
  /** A uniformly chosen element; throws on an empty list. */
  pick<T>(items: readonly T[]): T;
  /** An element chosen in proportion to its weight; throws when no weight is positive. */
  weighted<T>(choices: ReadonlyArray<readonly [T, number]>): T;
  /** Standard normal (mean 0, deviation 1), by Box-Muller. */
  normal(): number;
  /** Shuffles in place (Fisher-Yates) and returns the same array. */
  shuffle<T>(items: T[]): T[];
}

/**
 * mulberry32: 32 bits of state, fast, and good enough for synthetic data (not for cryptography).
 * Chosen because it is tiny and its output is identical on every platform and Node version.
 */
export function createRandom(seed: number): Random {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (min: number, max: number): number => min + Math.floor(next() * (max - min + 1));
  return {
    next,
    int,
    chance: (p) => next() < p,
    pick<T>(items: readonly T[]): T {
      const item = items[Math.floor(next() * items.length)];
      if (item === undefined) throw new RangeError('pick() needs a non-empty list');
      return item;
    },
    weighted<T>(choices: ReadonlyArray<readonly [T, number]>): T {
      const total = choices.reduce((sum, [, weight]) => sum + weight, 0);
      if (!(total > 0)) throw new RangeError('weighted() needs at least one positive weight');
      let roll = next() * total;
      let lastPositive: T | undefined;
      for (const [value, weight] of choices) {
        if (weight <= 0) continue;
        lastPositive = value;
        roll -= weight;
        if (roll < 0) return value;
      }
      // Floating-point rounding can leave roll at exactly 0 after the last choice.
      return lastPositive as T;
    },
    normal: () => {
      // 1 - next() lies in (0, 1], so the logarithm is finite.
      const u = 1 - next();
      const v = next();
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    },
    shuffle<T>(items: T[]): T[] {
      for (let i = items.length - 1; i > 0; i--) {
        const j = int(0, i);
        const a = items[i] as T;
        items[i] = items[j] as T;
        items[j] = a;
      }
      return items;
    },
  };
}

/**
 * Derives the seed of one named stream from the dataset seed (FNV-1a over the name, mixed with
 * the seed), so that each system draws from its own stream: changing how tickets are generated
 * never shifts the CRM's data.
 */
export function streamSeed(seed: number, stream: string): number {
  let hash = 0x811c9dc5 ^ (seed >>> 0);
  for (let i = 0; i < stream.length; i++) {
    hash ^= stream.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/**
 * Spreads `total` items over owners in proportion to their weights (a multinomial draw) and
 * returns how many each owner got. A zero weight means the owner gets none. This is how orders
 * and tickets get their skew: a few customers with many, most with a few, some with none.
 */
export function allocate(rng: Random, weights: readonly number[], total: number): number[] {
  const cumulative: number[] = [];
  let sum = 0;
  for (const weight of weights) {
    sum += weight;
    cumulative.push(sum);
  }
  if (!(sum > 0)) throw new RangeError('allocate() needs at least one positive weight');
  const counts = new Array<number>(weights.length).fill(0);
  for (let n = 0; n < total; n++) {
    const roll = rng.next() * sum;
    // First owner whose cumulative weight exceeds the roll; zero-weight owners are never chosen
    // because their cumulative value equals their predecessor's.
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((cumulative[mid] as number) > roll) hi = mid;
      else lo = mid + 1;
    }
    counts[lo] = (counts[lo] as number) + 1;
  }
  return counts;
}

/** Checks a dataset seed once, where it enters, so a bad one fails with a message naming it. */
export function assertSeed(seed: number): void {
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new RangeError(`seed must be an integer in [0, 2^32), got ${String(seed)}`);
  }
}

/** The default seed of every sandbox dataset. */
export const DEFAULT_SEED = 42;
