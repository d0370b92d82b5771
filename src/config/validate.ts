import type { z } from 'zod';
import { CODES, VirtualizeError } from '../errors';
import { configDefinition, type VirtualizationConfig } from './definition';
import { explainIssue, type DefinitionProblem } from './problems';
import { checkReferences } from './references';

export { formatPath, type DefinitionProblem } from './problems';

export class InvalidDefinitionError extends VirtualizeError<typeof CODES.INVALID_DEFINITION> {
  constructor(
    readonly problems: DefinitionProblem[],
    what = 'configuration',
    /** The file the definition was read from, when it was. */
    readonly file?: string,
  ) {
    super(
      CODES.INVALID_DEFINITION,
      `The ${what} is invalid (${problems.length} problem${problems.length === 1 ? '' : 's'})${file ? ` in ${file}` : ''}:\n` +
        problems.map((p) => `  - ${formatProblem(p)}`).join('\n'),
    );
    this.name = 'InvalidDefinitionError';
  }
}

/** `path: message (expected ...; found ...)`, leaving out what the message already says. */
export function formatProblem(problem: DefinitionProblem): string {
  const extra = [
    problem.expected != null && !problem.message.includes(problem.expected) ? `expected ${problem.expected}` : undefined,
    problem.found != null && !problem.message.includes(problem.found) ? `found ${problem.found}` : undefined,
  ].filter(Boolean);
  return `${problem.path || '(root)'}: ${problem.message}${extra.length > 0 ? ` (${extra.join('; ')})` : ''}`;
}

/**
 * Checks `input` against one zod schema of the format: the parsed value, or every problem with
 * its path (below `prefix`), what was expected there and what was found.
 */
export function checkShape<T extends z.ZodType>(
  schema: T,
  input: unknown,
  prefix: ReadonlyArray<PropertyKey> = [],
): { ok: true; value: z.output<T> } | { ok: false; problems: DefinitionProblem[] } {
  const parsed = schema.safeParse(input, { reportInput: true });
  if (parsed.success) return { ok: true, value: parsed.data };
  return { ok: false, problems: parsed.error.issues.flatMap((issue) => explainIssue(schema, input, issue, prefix)) };
}

/**
 * Validates a whole configuration: its shape first, then the references between its parts
 * (mapped entities exist, lookups exist for the keys a join needs, ...). Every problem is
 * reported at once, so that an architect fixes a definition in one pass.
 */
export function validateConfig(input: unknown): VirtualizationConfig {
  const shape = checkShape(configDefinition, input);
  if (!shape.ok) throw new InvalidDefinitionError([...shape.problems, ...referencesOfSoundParts(input, shape.problems)]);
  const problems = checkReferences(shape.value);
  if (problems.length > 0) throw new InvalidDefinitionError(problems);
  return shape.value;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * With problems of shape, the references between the parts that have none, so that one report
 * holds both: the mappings without a problem of their own, checked against the sources, when
 * every source is sound (a broken source's entities are unknown, and a reference to them a guess).
 */
function referencesOfSoundParts(input: unknown, problems: readonly DefinitionProblem[]): DefinitionProblem[] {
  if (!isRecord(input) || !isRecord(input.sources)) return [];
  const broken = (prefix: string) => problems.some((problem) => problem.path === prefix || problem.path.startsWith(`${prefix}.`));
  if (broken('sources')) return [];
  const mappings = isRecord(input.mappings) ? Object.fromEntries(Object.entries(input.mappings).filter(([name]) => !broken(`mappings.${name}`))) : {};
  const parts = configDefinition.safeParse({ sources: input.sources, mappings });
  return parts.success ? checkReferences(parts.data) : [];
}
