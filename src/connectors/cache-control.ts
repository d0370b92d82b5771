/** Freshness from a `Cache-Control` header: `max-age` (or `s-maxage`), 0 for `no-store`/`no-cache`/`private`. */
export function maxAgeOf(header: string | string[] | undefined): number | undefined {
  const value = Array.isArray(header) ? header.join(',') : header;
  if (!value) return undefined;
  const directives = value.toLowerCase().split(',').map((part) => part.trim());
  if (directives.some((d) => d === 'no-store' || d === 'no-cache' || d === 'private')) return 0;
  // The gateway is a shared cache: s-maxage wins over max-age wherever it stands.
  const find = (pattern: RegExp) => directives.map((d) => pattern.exec(d)).find((m) => m !== null);
  const age = find(/^s-maxage=(\d+)$/) ?? find(/^max-age=(\d+)$/);
  return age ? Number(age[1]) * 1000 : undefined;
}
