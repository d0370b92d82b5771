/**
 * The last line of defence of "a problem names the variable, never its value": whatever a check
 * or a sample call reports (a source's error quoting the URL it called, a refusal quoting a value),
 * every value of an environment variable the registered entries name is replaced by the name of
 * its variable before the report leaves the registry.
 */

/** Values shorter than this are left alone: replacing "1" would garble every count in a message, and no secret is that short. */
const SHORTEST_WITHHELD = 4;

/** Every variable named anywhere in the entries (`{ "env": NAME }` at any depth). */
function namedVariables(value: unknown, found: Set<string>): Set<string> {
  if (Array.isArray(value)) for (const item of value) namedVariables(item, found);
  else if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    if (typeof record.env === 'string') found.add(record.env);
    for (const item of Object.values(record)) namedVariables(item, found);
  }
  return found;
}

export type Withhold = <T>(value: T) => T;

/** What replaces, in any string of a value, the values of the variables `entries` name. */
export function withholdingValues(entries: unknown, env: NodeJS.ProcessEnv): Withhold {
  const secrets = [...namedVariables(entries, new Set())]
    .flatMap((variable) => {
      const value = env[variable];
      return value !== undefined && value.length >= SHORTEST_WITHHELD ? [{ variable, value }] : [];
    })
    // Longest first, so that a value holding another is replaced whole.
    .sort((a, b) => b.value.length - a.value.length);
  const scrub = (text: string) => secrets.reduce((result, { variable, value }) => result.split(value).join(`<value of ${variable}>`), text);
  const walk = (value: unknown): unknown => {
    if (typeof value === 'string') return scrub(value);
    if (Array.isArray(value)) return value.map(walk);
    if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, walk(item)]));
    return value;
  };
  return <T>(value: T): T => (secrets.length === 0 ? value : (walk(value) as T));
}
