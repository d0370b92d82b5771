/**
 * Turns zod's issues into problems an architect can act on: the path in the definition, what the
 * format expects there, and what the definition has there. Unknown keys name the keys allowed at
 * that place (and the likely one meant), which needs the schema: it is walked along the path.
 */
import type { z } from 'zod';

/** One problem in a definition: where it is, and what is wrong there. */
export interface DefinitionProblem {
  /** Dot path in the definition, e.g. `sources.billing.entities.Invoice.lookups.id.path`. */
  path: string;
  message: string;
  /** What the format wants there, e.g. `one of "GET", "POST"`. */
  expected?: string;
  /** What the definition has there, shortened, e.g. `the string "PUT"`. */
  found?: string;
}

export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  return path
    .map((part, i) => (typeof part === 'number' ? `[${part}]` : i === 0 ? String(part) : `.${String(part)}`))
    .join('');
}

type Issue = z.core.$ZodIssue;
type Schema = z.core.$ZodType;

/** A short, safe rendering of a value found in a definition. */
function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value)}`;
  if (typeof value === 'number' || typeof value === 'boolean') return `the ${typeof value} ${String(value)}`;
  if (Array.isArray(value)) return `a list of ${value.length}`;
  if (typeof value === 'object') {
    const keys = Object.keys(value);
    return keys.length === 0 ? 'an empty object' : `an object with ${keys.slice(0, 6).join(', ')}${keys.length > 6 ? ', ...' : ''}`;
  }
  return typeof value;
}

const ARTICLE: Record<string, string> = { object: 'an object', array: 'a list', int: 'an integer', undefined: 'nothing' };

function typeName(expected: string): string {
  return ARTICLE[expected] ?? `a ${expected}`;
}

function quoted(values: readonly unknown[]): string {
  return values.map((value) => JSON.stringify(value)).join(', ');
}

function bound(issue: Extract<Issue, { code: 'too_small' | 'too_big' }>): string {
  const limit = issue.code === 'too_small' ? issue.minimum : issue.maximum;
  const relation = issue.code === 'too_small' ? (issue.inclusive === false ? 'more than' : 'at least') : issue.inclusive === false ? 'less than' : 'at most';
  const unit = issue.origin === 'string' ? ' characters' : issue.origin === 'array' || issue.origin === 'set' ? ' items' : '';
  const what = issue.origin === 'number' || issue.origin === 'int' || issue.origin === 'bigint' ? 'a number' : issue.origin === 'string' ? 'text of' : 'a list of';
  return `${what} ${relation} ${String(limit)}${unit}`;
}

function formatExpectation(issue: Extract<Issue, { code: 'invalid_format' }>): string {
  if (issue.format === 'regex' && 'pattern' in issue) return `text matching ${String(issue.pattern)}`;
  if (issue.format === 'starts_with' && 'prefix' in issue) return `text starting with ${JSON.stringify(issue.prefix)}`;
  return `a ${issue.format}`;
}

/** Edit distance, to suggest the key an architect probably meant. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length]!;
}

function closest(key: string, allowed: readonly string[]): string | undefined {
  let best: { key: string; d: number } | undefined;
  for (const candidate of allowed) {
    const d = distance(key.toLowerCase(), candidate.toLowerCase());
    // Two edits from five letters on: a swapped pair (`cahce`) is two.
    if (d <= Math.max(candidate.length >= 5 ? 2 : 1, Math.floor(candidate.length / 4)) && (!best || d < best.d)) best = { key: candidate, d };
  }
  return best?.key;
}

interface Def {
  type: string;
  shape?: Record<string, Schema>;
  innerType?: Schema;
  in?: Schema;
  valueType?: Schema;
  element?: Schema;
  items?: Schema[];
  options?: Schema[];
  discriminator?: string;
  values?: unknown[];
  getter?: () => Schema;
}

function defOf(schema: Schema): Def {
  return schema._zod.def as unknown as Def;
}

/** Wrappers that do not change where keys live. */
function unwrap(schema: Schema): Schema {
  let current = schema;
  for (;;) {
    const def = defOf(current);
    if (def.innerType) current = def.innerType;
    else if (def.type === 'pipe' && def.in) current = def.in;
    else if (def.type === 'lazy' && def.getter) current = def.getter();
    else return current;
  }
}

/** The object schemas a value at `path` may be checked against, narrowed by discriminators. */
function objectsAt(schema: Schema, path: readonly PropertyKey[], input: unknown): Schema[] {
  const here = unwrap(schema);
  const def = defOf(here);
  if (def.type === 'union' && def.options) {
    let options = def.options;
    if (def.discriminator && input !== null && typeof input === 'object') {
      const tag = (input as Record<string, unknown>)[def.discriminator];
      const matching = options.filter((option) => defOf(unwrap(defOf(unwrap(option)).shape?.[def.discriminator!] ?? option)).values?.includes(tag));
      if (matching.length > 0) options = matching;
    }
    return options.flatMap((option) => objectsAt(option, path, input));
  }
  if (path.length === 0) return def.type === 'object' ? [here] : [];
  const [step, ...rest] = path;
  const child = (value: unknown) => (value !== null && typeof value === 'object' ? (value as Record<PropertyKey, unknown>)[step as PropertyKey] : undefined);
  if (def.type === 'object' && def.shape && typeof step === 'string' && def.shape[step]) return objectsAt(def.shape[step], rest, child(input));
  if (def.type === 'record' && def.valueType) return objectsAt(def.valueType, rest, child(input));
  if (def.type === 'array' && def.element) return objectsAt(def.element, rest, child(input));
  if (def.type === 'tuple' && def.items && typeof step === 'number' && def.items[step]) return objectsAt(def.items[step], rest, child(input));
  return [];
}

function allowedKeys(root: Schema, path: readonly PropertyKey[], rootInput: unknown): string[] {
  const keys = new Set<string>();
  for (const object of objectsAt(root, path, rootInput)) for (const key of Object.keys(defOf(object).shape ?? {})) keys.add(key);
  return [...keys];
}

/** The problems one zod issue stands for (an issue about several unknown keys is one per key). */
export function explainIssue(root: Schema, rootInput: unknown, issue: Issue, prefix: readonly PropertyKey[]): DefinitionProblem[] {
  const path = formatPath([...prefix, ...issue.path]);
  const input = issue.input;
  switch (issue.code) {
    case 'invalid_type':
      if (input === undefined) return [{ path, message: `is required: expected ${typeName(issue.expected)}`, expected: typeName(issue.expected), found: 'nothing' }];
      return [{ path, message: `expected ${typeName(issue.expected)}, found ${describeValue(input)}`, expected: typeName(issue.expected), found: describeValue(input) }];
    case 'invalid_union': {
      if ('discriminator' in issue && issue.discriminator && 'options' in issue && Array.isArray(issue.options)) {
        const tag = input !== null && typeof input === 'object' ? (input as Record<string, unknown>)[issue.discriminator] : undefined;
        const expected = `one of ${quoted(issue.options)}`;
        const tagPath = formatPath([...prefix, ...issue.path.slice(0, -1), issue.discriminator]);
        const at = issue.path[issue.path.length - 1] === issue.discriminator ? path : tagPath;
        return [{ path: at, message: `"${issue.discriminator}" must be ${expected}, found ${describeValue(tag)}`, expected, found: describeValue(tag) }];
      }
      // One form the value has the type of (an object, where a string or an object is allowed):
      // what is wrong inside it, at its own path (a transform name, with the names allowed).
      const fitting = issue.errors.filter((branch) => !(branch.length > 0 && branch.every((inner) => inner.path.length === 0 && inner.code === 'invalid_type')));
      if (fitting.length === 1 && fitting[0]!.length > 0) {
        return fitting[0]!.flatMap((inner) => explainIssue(root, rootInput, { ...inner, path: [...issue.path, ...inner.path] } as Issue, prefix));
      }
      // Each form the value could have taken, as the first thing it broke there says.
      const forms = [
        ...new Set(
          issue.errors.map((branch) => {
            const first = branch[0];
            if (!first) return 'another form';
            if (first.path.length === 0 && first.code === 'invalid_type') return typeName(first.expected);
            if (first.path.length === 0 && first.code === 'invalid_value') return first.values.length === 1 ? JSON.stringify(first.values[0]) : `one of ${quoted(first.values)}`;
            return `${typeName('object')} (${formatPath(first.path) || 'itself'}: ${first.message.replace(/^Invalid input: /, '')})`;
          }),
        ),
      ];
      const expected = forms.join(' or ');
      return [{ path, message: `expected ${expected}, found ${describeValue(input)}`, expected, found: describeValue(input) }];
    }
    case 'unrecognized_keys': {
      const allowed = allowedKeys(root, issue.path, rootInput);
      return issue.keys.map((key) => {
        const guess = closest(key, allowed);
        const expected = allowed.length > 0 ? `one of ${allowed.join(', ')}` : undefined;
        return {
          path: formatPath([...prefix, ...issue.path, key]),
          message: `unknown key "${key}"${guess ? `: did you mean "${guess}"?` : expected ? `: the keys here are ${allowed.join(', ')}` : ''}`,
          ...(expected ? { expected } : {}),
          found: `"${key}"`,
        };
      });
    }
    case 'invalid_key': {
      const key = String(issue.path[issue.path.length - 1]);
      return [{ path, message: `the name "${key}" is not allowed: ${issue.issues.map((inner) => inner.message).join('; ')}`, found: `"${key}"` }];
    }
    case 'too_small':
    case 'too_big': {
      const expected = bound(issue);
      return [{ path, message: `expected ${expected}, found ${describeValue(input)}`, expected, found: describeValue(input) }];
    }
    case 'invalid_format': {
      const expected = formatExpectation(issue);
      // Our own formats carry a message that says what to write; zod's default ones do not.
      const message = issue.message.startsWith('Invalid') ? `expected ${expected}` : issue.message;
      return [{ path, message, expected, found: describeValue(input) }];
    }
    case 'invalid_value': {
      const expected = issue.values.length === 1 ? JSON.stringify(issue.values[0]) : `one of ${quoted(issue.values)}`;
      return [{ path, message: `expected ${expected}, found ${describeValue(input)}`, expected, found: describeValue(input) }];
    }
    case 'not_multiple_of':
      return [{ path, message: `expected a multiple of ${String(issue.divisor)}`, found: describeValue(input) }];
    default:
      return [{ path, message: issue.message, ...(input !== undefined && (input === null || typeof input !== 'object') ? { found: describeValue(input) } : {}) }];
  }
}
