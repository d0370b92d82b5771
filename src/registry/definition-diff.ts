/** One difference between two definitions, at a dot path (`sources.billing.limits.timeoutMs`). */
export interface DiffEntry {
  op: 'add' | 'remove' | 'replace';
  path: string;
  before?: unknown;
  after?: unknown;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * The differences between two JSON values, for the audit trail: objects are compared key by key,
 * anything else (lists included) as a whole. Keys are visited in sorted order, so the same change
 * always reads the same.
 */
export function diffDefinitions(before: unknown, after: unknown, path = ''): DiffEntry[] {
  if (isPlainObject(before) && isPlainObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((key) => {
      const at = path ? `${path}.${key}` : key;
      if (!(key in before)) return [{ op: 'add' as const, path: at, after: after[key] }];
      if (!(key in after)) return [{ op: 'remove' as const, path: at, before: before[key] }];
      return diffDefinitions(before[key], after[key], at);
    });
  }
  if (JSON.stringify(before) === JSON.stringify(after)) return [];
  if (before === undefined) return [{ op: 'add', path, after }];
  if (after === undefined) return [{ op: 'remove', path, before }];
  return [{ op: 'replace', path, before, after }];
}
