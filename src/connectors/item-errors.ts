import type { LookupDefinition } from '../config/definition';
import { CODES } from '../errors';
import { SourceError } from './errors';
import type { JsonResponse } from './http-client';
import { keyString } from './key-string';
import { readPath } from './record-mapper';

/** Which lookup a partial answer came from, to name it in the errors. */
export interface LookupCall {
  source: string;
  entity: string;
  field: string;
  route: string;
}

/**
 * The per-value errors of a partial batch answer (a successful answer that also reports errors
 * for some values, at the lookup's `itemErrors` path), by the value they concern. Codes declared
 * as "not found" are no error: those values simply find nothing.
 */
export function itemErrors(call: LookupCall, lookup: LookupDefinition, response: JsonResponse): Map<string, SourceError> {
  const failures = new Map<string, SourceError>();
  const spec = lookup.itemErrors;
  const reported = spec ? readPath(response.body, spec.path) : undefined;
  if (!spec || !Array.isArray(reported)) return failures;
  for (const item of reported) {
    const code = spec.codePath ? keyString(readPath(item, spec.codePath)) : undefined;
    if (code !== undefined && spec.notFoundCodes?.includes(code)) continue;
    const detail = spec.messagePath ? keyString(readPath(item, spec.messagePath))?.slice(0, 200) : undefined;
    const concerned = readPath(item, spec.keyPath);
    for (const value of Array.isArray(concerned) ? concerned : [concerned]) {
      const key = keyString(value);
      if (key === undefined) continue;
      const reason = [code, detail].filter(Boolean).join(': ') || 'no reason given';
      failures.set(
        key,
        new SourceError(CODES.SOURCE_PARTIAL_FAILURE, call.source, call.route, `Source ${call.source} reported an error for ${call.entity} ${call.field} "${key}" (${reason}); the other values of the call were served`, response.status),
      );
    }
  }
  return failures;
}
