/**
 * How a trusted operation is named: the SHA-256 of its document text, in lower-case hex, as
 * Apollo's persisted queries (`extensions.persistedQuery.sha256Hash`) and the GraphQL over HTTP
 * persisted-documents proposal (`documentId`, bare or as `sha256:<hex>`) send it. The same
 * function names an operation when it is pushed and when it is asked for, so they cannot drift.
 */
import { createHash } from 'node:crypto';

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** The id of a document: SHA-256 of its exact text (UTF-8), lower-case hex. */
export function operationIdOf(document: string): string {
  return createHash('sha256').update(document, 'utf8').digest('hex');
}

/** Whether a value is an operation id (64 lower-case hex digits). */
export function isOperationId(value: string): boolean {
  return SHA256_HEX.test(value);
}

/** The parts of a GraphQL request that name an operation by id. */
export interface OperationIdParams {
  readonly extensions?: Record<string, unknown> | undefined;
  readonly documentId?: unknown;
}

/**
 * The operation id a request sends, as it sent it (checked by the caller with isOperationId), or
 * undefined when it sends none: `extensions.persistedQuery.sha256Hash` (version 1), else
 * `documentId` (`sha256:` prefix dropped; upper-case hex read as lower-case).
 */
export function requestedOperationId(params: OperationIdParams): string | undefined {
  const persisted = params.extensions?.persistedQuery as { version?: unknown; sha256Hash?: unknown } | undefined;
  if (persisted && typeof persisted === 'object' && persisted.version === 1 && typeof persisted.sha256Hash === 'string') return persisted.sha256Hash.toLowerCase();
  if (typeof params.documentId === 'string') return params.documentId.replace(/^sha256:/i, '').toLowerCase();
  return undefined;
}
