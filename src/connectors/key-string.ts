/** Keys are compared as strings: one system's numeric ref and another's string id meet in the middle. */
export function keyString(value: unknown): string | undefined {
  return value === null || value === undefined ? undefined : String(value);
}
