import type { LookupDefinition } from '../config/definition';
import { readPath } from './record-mapper';

/**
 * The test a lookup's declared `notFound` makes of an error answer: one of its statuses and, when
 * it names a code path, one of its codes there (Stripe's 400 `error.code: resource_missing`).
 * Undefined when the lookup declares none: only a 404 then means no record.
 */
export function notFoundAnswer(notFound: LookupDefinition['notFound']): ((status: number, body: unknown) => boolean) | undefined {
  if (!notFound) return undefined;
  const statuses = new Set(notFound.status);
  const codes = new Set(notFound.codes ?? []);
  return (status, body) => {
    if (!statuses.has(status)) return false;
    if (notFound.codePath === undefined) return true;
    const code = readPath(body, notFound.codePath);
    return typeof code === 'string' && codes.has(code);
  };
}
