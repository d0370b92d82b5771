/** Query-string and payload helpers shared by the sandbox systems, so they agree on what a list or an id is. */

/** `a, b,,c` -> `['a', 'b', 'c']`; a missing parameter is an empty list. */
export function listParam(query: URLSearchParams, name: string): string[] {
  return (query.get(name) ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/** A positive decimal integer id (`42`, not `042x`, `-1` or `1e3`), or undefined. */
export function parseNumericId(raw: string): number | undefined {
  if (!/^\d{1,15}$/.test(raw)) return undefined;
  return Number(raw);
}

/** A plain JSON object (not null, not an array). */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
