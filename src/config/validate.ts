import type { z } from 'zod';
import { configDefinition, type VirtualizationConfig } from './definition';
import { checkReferences } from './references';

/** One problem in a definition: where it is, and what is wrong there. */
export interface DefinitionProblem {
  path: string;
  message: string;
}

export class InvalidDefinitionError extends Error {
  readonly code = 'INVALID_DEFINITION';
  constructor(
    readonly problems: DefinitionProblem[],
    what = 'configuration',
  ) {
    super(
      `The ${what} is invalid (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
        problems.map((p) => `  - ${p.path || '(root)'}: ${p.message}`).join('\n'),
    );
    this.name = 'InvalidDefinitionError';
  }
}

export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  return path
    .map((part, i) => (typeof part === 'number' ? `[${part}]` : i === 0 ? String(part) : `.${String(part)}`))
    .join('');
}

function fromZod(error: z.ZodError): DefinitionProblem[] {
  return error.issues.map((issue) => {
    // A bad name (a record key) carries the rule it broke in nested issues; say that rule.
    if (issue.code === 'invalid_key') {
      const key = String(issue.path[issue.path.length - 1]);
      return { path: formatPath(issue.path), message: `the name "${key}" is not allowed: ${issue.issues.map((inner) => inner.message).join('; ')}` };
    }
    // A value that fits none of the forms of a union (`retry: false` or a retry policy): name the forms.
    if (issue.code === 'invalid_union' && issue.errors.every((branch) => branch.every((inner) => inner.path.length === 0))) {
      return { path: formatPath(issue.path), message: `expected one of: ${issue.errors.map((branch) => branch.map((inner) => inner.message.replace(/^Invalid input: /, '')).join(', ')).join('; or ')}` };
    }
    return { path: formatPath(issue.path), message: issue.message };
  });
}

/**
 * Validates a whole configuration: its shape first, then the references between its parts
 * (mapped entities exist, lookups exist for the keys a join needs, ...). Every problem is
 * reported at once, so that an architect fixes a definition in one pass.
 */
export function validateConfig(input: unknown): VirtualizationConfig {
  const parsed = configDefinition.safeParse(input);
  if (!parsed.success) throw new InvalidDefinitionError(fromZod(parsed.error));
  const problems = checkReferences(parsed.data);
  if (problems.length > 0) throw new InvalidDefinitionError(problems);
  return parsed.data;
}
