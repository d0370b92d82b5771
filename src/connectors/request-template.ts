/**
 * Request templating: how the placeholders of an endpoint's path, query and JSON body
 * (`{value}`, `{values}`, `{properties}`) become the request of one call.
 */
import { isRepeatedTemplate, type EntityDefinition } from '../config/definition';
import { fieldSource } from './record-mapper';

/** The values of one call, for the placeholders of its templates. */
export interface CallValues {
  keys: readonly string[];
  separator: string;
  valueType: 'string' | 'number';
  properties: readonly string[];
}

/** Placeholders as text, for paths and query strings. */
export function textValues(call: CallValues): Record<string, string> {
  return { value: call.keys[0] ?? '', values: call.keys.join(call.separator), properties: call.properties.join(',') };
}

/**
 * Fills a JSON body template. `{values}`, `{value}` and `{properties}` standing alone become JSON
 * values (numbers for numeric ids), so that `{ "ids": "{values}" }` sends `{ "ids": [1, 2] }`. An
 * array whose single element contains `{value}` is repeated once per key, that key in place of
 * `{value}`: `{ "inputs": [{ "id": "{value}" }] }` sends `{ "inputs": [{ "id": 1 }, { "id": 2 }] }`.
 */
export function fillBody(template: unknown, call: CallValues, text: Record<string, string>): unknown {
  const typed = (key: string) => (call.valueType === 'number' ? Number(key) : key);
  if (typeof template === 'string') {
    if (template === '{values}') return call.keys.map(typed);
    if (template === '{value}') return typed(call.keys[0] ?? '');
    if (template === '{properties}') return [...call.properties];
    return template.replace(/\{(\w+)\}/g, (_, name: string) => text[name] ?? '');
  }
  if (isRepeatedTemplate(template)) {
    return call.keys.map((key) => {
      const one = { ...call, keys: [key] };
      return fillBody(template[0], one, textValues(one));
    });
  }
  if (Array.isArray(template)) return template.map((item) => fillBody(item, call, text));
  if (template !== null && typeof template === 'object') {
    return Object.fromEntries(Object.entries(template).map(([key, item]) => [key, fillBody(item, call, text)]));
  }
  return template;
}

/** The raw property names a field mapping reads, below `under` when the record nests them: what `{properties}` stands for. */
export function propertyNames(fields: EntityDefinition['fields'], under: string | undefined): string[] {
  const names = new Set<string>();
  for (const mapping of Object.values(fields)) {
    const path = fieldSource(mapping);
    const rest = under === undefined ? path : path.startsWith(`${under}.`) ? path.slice(under.length + 1) : undefined;
    if (rest) names.add(rest.split('.')[0]!);
  }
  return [...names];
}

/** Path placeholders are URL-encoded; query values are encoded by URLSearchParams. */
function fillTemplate(template: string, values: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(values[name] ?? ''));
}

/** A query template: a parameter's template, or a list of one template repeated per key. */
export type QueryTemplate = Record<string, string | readonly [string]>;

/**
 * The path and query string of a call; a query parameter that fills to nothing is left out. A
 * parameter declared as `["{value}"]` is repeated once per key of `call` (`?id=1&id=2`).
 */
export function buildPathAndQuery(path: string, query: QueryTemplate | undefined, values: Record<string, string>, call?: CallValues): string {
  const filledPath = fillTemplate(path, values);
  const params = new URLSearchParams();
  const fill = (template: string, from: Record<string, string>) => template.replace(/\{(\w+)\}/g, (_, key: string) => from[key] ?? '');
  for (const [name, template] of Object.entries(query ?? {})) {
    if (typeof template === 'string') {
      const filled = fill(template, values);
      if (filled !== '') params.set(name, filled);
      continue;
    }
    for (const key of call?.keys ?? []) {
      const filled = fill(template[0], textValues({ ...call!, keys: [key] }));
      if (filled !== '') params.append(name, filled);
    }
  }
  const search = params.toString();
  return search ? `${filledPath}?${search}` : filledPath;
}
