/** Keys are compared as strings: one system's numeric ref and another's string id meet in the middle. */
export function keyString(value: unknown): string | undefined {
  return value === null || value === undefined ? undefined : String(value);
}

/**
 * The key values a field holds: one for a scalar, each element once for a list (`shop: [8812,
 * 9001]` joins by both), in the order the list gives them; none for null or an empty list. A list
 * is never one value (`"8812,9001"` names nothing).
 */
export function keyValues(value: unknown): string[] {
  if (!Array.isArray(value)) {
    const one = keyString(value);
    return one === undefined ? [] : [one];
  }
  return [...new Set(value.flatMap((element: unknown) => keyString(element) ?? []))];
}
