import type { ShapeLimits } from '../config/definition';

/** Where a JSON value breaks `jsonDepth` or `jsonStringLength`, and by how much. */
export interface JsonBoundBreach {
  limit: 'jsonDepth' | 'jsonStringLength';
  /** A JSON path to the value, such as `variables.filter.and[0]`, cut after a few steps. */
  path: string;
  found: number;
}

/** Steps of a path a message names, and characters of each key; the rest is left out (it is the caller's own JSON). */
const PATH_STEPS = 6;
const KEY_CHARACTERS = 40;

/**
 * The first place where a parsed request value nests deeper than `jsonDepth` or holds a string (a
 * value or a key) longer than `jsonStringLength`. Walked with a stack of its own, never by
 * recursion: the value is what a client sent, and anything that recurses over it (JSON.stringify,
 * a structured clone, a logger) would overflow the call stack on ten thousand nested brackets,
 * which `JSON.parse` accepts without complaint. Each node is visited once, so the walk is bounded
 * by the body's length.
 */
export function jsonBoundBreach(value: unknown, root: string, limits: Pick<ShapeLimits, 'jsonDepth' | 'jsonStringLength'>): JsonBoundBreach | undefined {
  const stack: Array<{ value: unknown; depth: number; path: readonly (string | number)[] }> = [{ value, depth: 0, path: [root] }];
  while (stack.length > 0) {
    const { value: current, depth, path } = stack.pop()!;
    if (typeof current === 'string') {
      if (current.length > limits.jsonStringLength) return { limit: 'jsonStringLength', path: pathText(path), found: current.length };
      continue;
    }
    if (current === null || typeof current !== 'object') continue;
    if (depth + 1 > limits.jsonDepth) return { limit: 'jsonDepth', path: pathText(path), found: depth + 1 };
    const child = (step: string | number) => (path.length < PATH_STEPS ? [...path, typeof step === 'string' && step.length > KEY_CHARACTERS ? `${step.slice(0, KEY_CHARACTERS)}...` : step] : path);
    if (Array.isArray(current)) {
      for (let i = current.length - 1; i >= 0; i--) stack.push({ value: current[i], depth: depth + 1, path: child(i) });
      continue;
    }
    for (const [key, item] of Object.entries(current)) {
      if (key.length > limits.jsonStringLength) return { limit: 'jsonStringLength', path: pathText(path), found: key.length };
      stack.push({ value: item, depth: depth + 1, path: child(key) });
    }
  }
  return undefined;
}

function pathText(path: readonly (string | number)[]): string {
  const text = path.map((step, i) => (typeof step === 'number' ? `[${step}]` : i === 0 ? step : `.${step}`)).join('');
  return path.length >= PATH_STEPS ? `${text}...` : text;
}
