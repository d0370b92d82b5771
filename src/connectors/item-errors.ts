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

/** What an answer says about the keys of its call beside the records it holds. */
export interface ItemReport {
  /** Keys the source reported an error for, each with that error. */
  failures: Map<string, SourceError>;
  /** Keys the source named as having no record (a declared not-found code). */
  notFound: Set<string>;
  /** The source reported an error: a 207, or an error in the list that is not a not-found one. */
  reported: boolean;
}

/** The most errors of one answer read (a source's list is bounded by its batch, but not by contract). */
const MAX_ITEM_ERRORS = 10_000;

/**
 * The per-value errors of a partial batch answer (a successful answer that also reports errors
 * for some values, at the lookup's `itemErrors` path), by the value they concern: named by value
 * (`keyPath`, one or a list) or by position among the keys sent (`indexPath`). Codes declared as
 * "not found" are no error: those values simply find nothing.
 */
export function itemErrors(call: LookupCall, lookup: LookupDefinition, response: JsonResponse, sent: readonly string[]): ItemReport {
  const report: ItemReport = { failures: new Map(), notFound: new Set(), reported: response.status === 207 };
  const spec = lookup.itemErrors;
  const listed = spec ? readPath(response.body, spec.path) : undefined;
  if (!spec || !Array.isArray(listed)) return report;
  for (const item of listed.slice(0, MAX_ITEM_ERRORS)) {
    const code = spec.codePath ? keyString(readPath(item, spec.codePath)) : undefined;
    const notFound = code !== undefined && spec.notFoundCodes?.includes(code) === true;
    if (!notFound) report.reported = true;
    const keys = namedKeys(spec, item, sent);
    if (notFound) {
      for (const key of keys) report.notFound.add(key);
      continue;
    }
    const detail = spec.messagePath ? keyString(readPath(item, spec.messagePath))?.slice(0, 200) : undefined;
    const reason = [code, detail].filter(Boolean).join(': ') || 'no reason given';
    for (const key of keys) {
      report.failures.set(
        key,
        new SourceError(CODES.SOURCE_PARTIAL_FAILURE, call.source, call.route, `Source ${call.source} reported an error for ${call.entity} ${call.field} "${key}" (${reason}); the other values of the call were served`, response.status),
      );
    }
  }
  return report;
}

/** The keys one error names: its values at `keyPath`, and the key sent at its `indexPath` position. */
function namedKeys(spec: NonNullable<LookupDefinition['itemErrors']>, item: unknown, sent: readonly string[]): string[] {
  const keys: string[] = [];
  if (spec.keyPath) {
    const concerned = readPath(item, spec.keyPath);
    for (const value of Array.isArray(concerned) ? concerned : [concerned]) {
      const key = keyString(value);
      if (key !== undefined) keys.push(key);
    }
  }
  if (spec.indexPath) {
    const index = Number(readPath(item, spec.indexPath));
    if (Number.isInteger(index) && index >= 0 && index < sent.length) keys.push(sent[index]!);
  }
  return keys;
}

/**
 * The error of a key that an answer reporting errors left unaccounted for: neither returned, nor
 * named as not found, nor named with an error of its own. Never a silent null.
 */
export function unaccountedFailure(call: LookupCall, key: string, status: number): SourceError {
  return new SourceError(
    CODES.SOURCE_PARTIAL_FAILURE,
    call.source,
    call.route,
    `Source ${call.source} reported errors for a call (${call.route}, status ${status}) and did not return ${call.entity} ${call.field} "${key}" nor say it does not exist; check the lookup's body or query template and its itemErrors`,
    status,
  );
}
