/**
 * `virtualize operations push <files...>` and `virtualize operations list`: the trusted-documents
 * manifest of a running gateway, through its admin API. A file is one document (`.graphql`,
 * `.gql`: its exact text is what clients must send), or a manifest that client build tools write
 * (`.json`: an object of hash to document, as graphql-codegen's and Relay's persisted documents
 * are, or Apollo's `{ operations: [{ id, body }] }`).
 */
import { existsSync, readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { operationIdOf } from '../auth/operation-id';
import type { TrustedOperation } from '../auth/caller';
import type { OperationInput, PushReport } from '../registry/operation-manifest';
import { MAX_PUSHED_OPERATIONS } from '../registry/operation-manifest';
import { adminGraphQL, AdminClientError, type AdminTarget } from './admin-client';

export const OPERATIONS_USAGE = `  operations push <files...>
                            register trusted operations: .graphql files (one document each,
                            sent by clients exactly as written) or .json manifests (hash to
                            document, or Apollo's { operations: [{ id, body }] })
  operations list           the registered operations, newest first (--limit, default 100)
`;

/** One document to push, and where it came from (for the report). */
interface Pushed {
  document: string;
  /** SHA-256 of the document, computed here. */
  hash: string;
  /** The id a manifest gave it: sent instead of ours, so that the gateway refuses a manifest whose ids are not SHA-256 of their documents. */
  claimed: string | undefined;
  from: string;
}

function manifestEntries(file: string, text: string): Pushed[] {
  let manifest: unknown;
  try {
    manifest = JSON.parse(text);
  } catch (error) {
    throw new AdminClientError(`${file} is not JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  const apollo = (manifest as { operations?: unknown } | null)?.operations;
  const pairs: Array<[string | undefined, unknown]> = Array.isArray(apollo)
    ? apollo.map((entry) => [typeof (entry as { id?: unknown })?.id === 'string' ? (entry as { id: string }).id : undefined, (entry as { body?: unknown })?.body])
    : manifest !== null && typeof manifest === 'object' && !Array.isArray(manifest)
      ? Object.entries(manifest as Record<string, unknown>)
      : [];
  if (pairs.length === 0) throw new AdminClientError(`${file} holds no operations: give an object of hash to document, or { "operations": [{ "id": ..., "body": ... }] }`);
  return pairs.map(([id, body], index) => {
    if (typeof body !== 'string') throw new AdminClientError(`${file}: entry ${id ?? index} has no document text`);
    return { document: body, hash: operationIdOf(body), claimed: id, from: `${file}#${id ?? index}` };
  });
}

/** The documents the files hold, each with its SHA-256 (what clients will send). */
export function readOperationFiles(files: readonly string[]): Pushed[] {
  if (files.length === 0) throw new AdminClientError('operations push needs at least one file: virtualize operations push <files...>');
  return files.flatMap((file) => {
    if (!existsSync(file)) throw new AdminClientError(`No such file: ${file}`);
    const text = readFileSync(file, 'utf8');
    if (extname(file).toLowerCase() === '.json') return manifestEntries(file, text);
    return [{ document: text, hash: operationIdOf(text), claimed: undefined, from: file }];
  });
}

const PUSH = `mutation($operations: [OperationInput!]!) { pushOperations(operations: $operations) {
  ok problems { index message } operations { hash name added } audit { at actor summary } } }`;

type Show = (text: string, data: unknown) => void;

async function push(target: AdminTarget, files: readonly string[], show: Show): Promise<number> {
  const documents = readOperationFiles(files);
  const reports: PushReport[] = [];
  const lines: string[] = [];
  // In pushes of at most the gateway's limit: each push is all or nothing, so a refused one stops here.
  for (let start = 0; start < documents.length; start += MAX_PUSHED_OPERATIONS) {
    const chunk = documents.slice(start, start + MAX_PUSHED_OPERATIONS);
    const variables = { operations: chunk.map((document): OperationInput => ({ document: document.document, hash: document.claimed ?? document.hash })) };
    const { pushOperations: report } = await adminGraphQL<{ pushOperations: PushReport }>(target, PUSH, variables);
    reports.push(report);
    if (!report.ok) {
      lines.push(`Refused: nothing of this push was registered. ${report.problems.length} problem${report.problems.length === 1 ? '' : 's'}:`);
      for (const problem of report.problems) lines.push(`  - ${chunk[problem.index]?.from ?? `#${problem.index}`}: ${problem.message}`);
      break;
    }
    for (const operation of report.operations) {
      const from = chunk.filter((document) => document.hash === operation.hash).map((document) => document.from)[0] ?? '';
      lines.push(`  ${operation.added ? '+' : '='} ${operation.hash}  ${(operation.name ?? '(unnamed)').padEnd(28)} ${from}${operation.added ? '' : '  (already registered)'}`);
    }
  }
  const ok = reports.every((report) => report.ok);
  if (ok) {
    const added = reports.flatMap((report) => report.operations).filter((operation) => operation.added).length;
    lines.push(`Registered ${added} new operation${added === 1 ? '' : 's'} (${documents.length} pushed). Clients send them as extensions.persistedQuery.sha256Hash or documentId.`);
  }
  show(`${lines.join('\n')}\n`, reports.length === 1 ? reports[0] : reports);
  return ok ? 0 : 1;
}

async function list(target: AdminTarget, limit: number, show: Show): Promise<number> {
  const { operations } = await adminGraphQL<{ operations: TrustedOperation[] }>(target, 'query($limit: Int) { operations(limit: $limit) { hash name registeredAt document } }', { limit });
  const text =
    operations.length === 0
      ? 'No trusted operations are registered: virtualize operations push <files...>\n'
      : `${operations.map((operation) => `${operation.registeredAt}  ${operation.hash}  ${operation.name ?? '(unnamed)'}`).join('\n')}\n`;
  show(text, operations);
  return 0;
}

/** Runs `operations push|list`; undefined when the action is neither (the caller prints the usage). */
export function runOperationsCommand(target: AdminTarget, action: string | undefined, args: readonly string[], options: { limit?: string }, show: Show): Promise<number> | undefined {
  if (action === 'push') return push(target, args, show);
  if (action === 'list') {
    const limit = Number(options.limit ?? 100);
    if (!Number.isInteger(limit) || limit < 1) throw new AdminClientError(`--limit takes a whole number from 1, not ${options.limit}`);
    return list(target, limit, show);
  }
  return undefined;
}
