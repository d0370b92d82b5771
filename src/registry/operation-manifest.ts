/**
 * Registering trusted operations (`virtualize operations push`, the admin API's pushOperations):
 * each document is parsed and validated against the live schema, named by the SHA-256 of its
 * exact text, and the whole push is refused when any one of them is wrong, as a registration is.
 * An accepted push is recorded in the audit trail with the operations it added.
 */
import { getOperationAST, parse, validate, type DocumentNode, type GraphQLSchema } from 'graphql';
import type { OperationStore, TrustedOperation } from '../auth/caller';
import { isOperationId, operationIdOf } from '../auth/operation-id';
import { CODES } from '../errors';
import type { DiffEntry } from './definition-diff';
import { RegistryError } from './registry-reports';
import type { AuditEntry, RegistryStore } from './registry-store';

/** Operations one push may carry; more go in further pushes. */
export const MAX_PUSHED_OPERATIONS = 1_000;
/** The longest document registered, in characters. */
export const MAX_OPERATION_LENGTH = 256 * 1024;
/** Validation errors reported per document. */
const ERRORS_PER_DOCUMENT = 3;

export interface OperationInput {
  document: string;
  /** The hash the pusher computed, checked against the gateway's own when given. */
  hash?: string | null;
}

export interface OperationProblem {
  /** The document's position in the push, from 0. */
  index: number;
  message: string;
}

export interface PushedOperation {
  hash: string;
  name: string | null;
  /** False when the manifest already held it (it is kept as it was). */
  added: boolean;
}

export interface PushReport {
  /** True when every document was accepted and the manifest holds them all. */
  ok: boolean;
  problems: OperationProblem[];
  operations: PushedOperation[];
  audit?: AuditEntry;
}

export interface ManifestParts {
  operations: OperationStore;
  store: Pick<RegistryStore, 'record'>;
  /** The live schema, which every document must fit. */
  schema(): GraphQLSchema;
  /** ISO-8601 now. */
  now(): string;
}

/** The operation's name when the document holds exactly one operation, and it is named. */
function nameOf(document: DocumentNode): string | null {
  return getOperationAST(document)?.name?.value ?? null;
}

/** One document checked: its operation, or what is wrong with it. */
function check(input: OperationInput, index: number, schema: GraphQLSchema): { operation: Omit<TrustedOperation, 'registeredAt'> } | { problem: OperationProblem } {
  const problem = (message: string) => ({ problem: { index, message } });
  if (typeof input.document !== 'string' || input.document.trim() === '') return problem('the document is empty');
  if (input.document.length > MAX_OPERATION_LENGTH) return problem(`the document is ${input.document.length} characters; at most ${MAX_OPERATION_LENGTH} are registered`);
  const hash = operationIdOf(input.document);
  if (input.hash !== undefined && input.hash !== null && input.hash.toLowerCase() !== hash) {
    return problem(`the hash given (${isOperationId(input.hash.toLowerCase()) ? input.hash : 'not a SHA-256 in hex'}) is not the SHA-256 of the document (${hash}): hash the exact text, as clients will send it`);
  }
  let document: DocumentNode;
  try {
    document = parse(input.document);
  } catch (error) {
    return problem(`the document is not GraphQL: ${error instanceof Error ? error.message : String(error)}`);
  }
  const errors = validate(schema, document);
  if (errors.length > 0) {
    const shown = errors.slice(0, ERRORS_PER_DOCUMENT).map((error) => error.message);
    return problem(`the document does not fit the schema: ${shown.join('; ')}${errors.length > shown.length ? ` (and ${errors.length - shown.length} more)` : ''}`);
  }
  return { operation: { hash, document: input.document, name: nameOf(document) } };
}

/** Checks every document, then registers them all, or none. */
export async function pushOperations(parts: ManifestParts, inputs: readonly OperationInput[], actor: string): Promise<PushReport> {
  if (inputs.length === 0) throw new RegistryError(CODES.BAD_USER_INPUT, 'Push at least one operation.');
  if (inputs.length > MAX_PUSHED_OPERATIONS) throw new RegistryError(CODES.BAD_USER_INPUT, `A push carries at most ${MAX_PUSHED_OPERATIONS} operations, got ${inputs.length}: push the rest in further pushes.`);
  const schema = parts.schema();
  const checked = inputs.map((input, index) => check(input, index, schema));
  const problems = checked.flatMap((result) => ('problem' in result ? [result.problem] : []));
  if (problems.length > 0) return { ok: false, problems, operations: [] };

  const registeredAt = parts.now();
  const unique = new Map<string, TrustedOperation>();
  for (const result of checked) if ('operation' in result && !unique.has(result.operation.hash)) unique.set(result.operation.hash, { ...result.operation, registeredAt });
  const pushed: PushedOperation[] = [];
  const fresh: TrustedOperation[] = [];
  for (const operation of unique.values()) {
    const added = (await parts.operations.find(operation.hash)) === undefined;
    pushed.push({ hash: operation.hash, name: operation.name, added });
    if (added) fresh.push(operation);
  }
  await parts.operations.put(fresh);

  const diff: DiffEntry[] = fresh.map((operation) => ({ op: 'add', path: `operations.${operation.hash}`, after: operation.name }));
  const names = fresh.map((operation) => operation.name ?? operation.hash.slice(0, 12));
  const summary = `pushed ${pushed.length} trusted operation${pushed.length === 1 ? '' : 's'}, ${fresh.length} new${names.length > 0 ? `: ${names.slice(0, 10).join(', ')}${names.length > 10 ? ', ...' : ''}` : ''}`;
  await parts.store.record({ actor, action: 'pushOperations', summary, diff });
  const audit: AuditEntry = { revision: null, at: registeredAt, actor, action: 'pushOperations', summary, diff };
  return { ok: true, problems: [], operations: pushed, audit };
}
