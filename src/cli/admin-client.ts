import { createReadStream, statSync } from 'node:fs';
import { Transform } from 'node:stream';
import { createInterface } from 'node:readline';
import { request } from 'undici';
import { CODES } from '../errors';
import type { ImportProgress, ImportReport } from '../registry/registry';

/** Where the admin API is and how to prove the right to use it. */
export interface AdminTarget {
  /** The gateway's origin, e.g. http://127.0.0.1:4000. */
  url: string;
  token: string;
}

/**
 * What the CLI reports of a failed admin call: the gateway's own code when it answered one (the
 * CLI passes it through; it is the gateway's table that defines it), else one of the CLI's own.
 */
export class AdminClientError extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'AdminClientError';
  }
}

interface GraphQLAnswer<T> {
  data?: T | null;
  errors?: Array<{ message: string; extensions?: { code?: string } }>;
}

function unreachable(target: AdminTarget, error: unknown): AdminClientError {
  const reason = error instanceof Error && 'code' in error ? String(error.code) : error instanceof Error ? error.message : String(error);
  return new AdminClientError(`Cannot reach the gateway at ${target.url} (${reason}): is it running? Pass --admin-url or set VIRTUALIZE_ADMIN_URL.`, CODES.UNREACHABLE);
}

/** One admin GraphQL operation; errors (auth refusals included) become an AdminClientError with their code. */
export async function adminGraphQL<T>(target: AdminTarget, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  let answer: GraphQLAnswer<T>;
  let status: number;
  try {
    const response = await request(new URL('/admin/graphql', target.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', authorization: `Bearer ${target.token}` },
      body: JSON.stringify({ query, variables }),
    });
    status = response.statusCode;
    answer = (await response.body.json()) as GraphQLAnswer<T>;
  } catch (error) {
    throw unreachable(target, error);
  }
  const first = answer.errors?.[0];
  if (first) throw new AdminClientError(first.message, first.extensions?.code);
  if (!answer.data) throw new AdminClientError(`The admin API answered ${status} without data`);
  return answer.data;
}

export type UploadEvent = { type: 'progress'; sent: number; total: number; server?: ImportProgress };

/**
 * Streams a crosswalk file to `POST /admin/crosswalks/<mapping>` (never read whole), telling
 * `onProgress` how many bytes have gone out and what the gateway reports, and returns the
 * gateway's result line.
 */
export async function uploadCrosswalk(
  target: AdminTarget,
  mapping: string,
  file: string,
  options: { format: 'csv' | 'ndjson'; columns?: string; partial?: boolean; onProgress?: (event: UploadEvent) => void },
): Promise<ImportReport> {
  const total = statSync(file).size;
  let sent = 0;
  const counted = createReadStream(file).pipe(
    new Transform({
      transform(chunk: Buffer, _encoding, done) {
        sent += chunk.length;
        options.onProgress?.({ type: 'progress', sent, total });
        done(null, chunk);
      },
    }),
  );
  const url = new URL(`/admin/crosswalks/${encodeURIComponent(mapping)}`, target.url);
  if (options.columns) url.searchParams.set('columns', options.columns);
  if (options.partial) url.searchParams.set('partial', 'true');
  let response: Awaited<ReturnType<typeof request>>;
  try {
    response = await request(url, {
      method: 'POST',
      headers: { 'content-type': options.format === 'csv' ? 'text/csv' : 'application/x-ndjson', authorization: `Bearer ${target.token}` },
      body: counted,
    });
  } catch (error) {
    throw unreachable(target, error);
  }
  if (response.statusCode !== 200) {
    const answer = (await response.body.json().catch(() => ({}))) as GraphQLAnswer<never>;
    const first = answer.errors?.[0];
    throw new AdminClientError(first?.message ?? `The gateway answered ${response.statusCode}`, first?.extensions?.code);
  }
  let result: ImportReport | undefined;
  for await (const line of createInterface({ input: response.body, crlfDelay: Infinity })) {
    if (line.trim() === '') continue;
    const event = JSON.parse(line) as { type: string; code?: string; message?: string } & Partial<ImportReport> & Partial<ImportProgress>;
    if (event.type === 'progress') options.onProgress?.({ type: 'progress', sent, total, server: event as ImportProgress });
    else if (event.type === 'result') result = event as ImportReport;
    else if (event.type === 'error') throw new AdminClientError(event.message ?? 'the import failed', event.code);
  }
  if (!result) throw new AdminClientError('The gateway ended the upload without a result');
  return result;
}
