import type { IncomingMessage, ServerResponse } from 'node:http';
import { createYoga } from 'graphql-yoga';
import type { ManagedKeys } from '../auth/managed-keys';
import type { RegistryDefinition } from '../config/definition';
import { CODES, refusalBody, VirtualizeError } from '../errors';
import { CrosswalkFileError, crosswalkRows, CrosswalkTooLargeError, type CrosswalkFormat } from '../mapping/crosswalk-rows';
import { RegistryError, type Registry } from '../registry/registry';
import { adminCredentials, authenticateAdmin, missingScope, type AdminCredential } from './admin-auth';
import { adminSchema, type AdminContext } from './admin-schema';
import { maskErrors } from './mask-errors';

export const ADMIN_PREFIX = '/admin/';
const ADMIN_GRAPHQL_PATH = '/admin/graphql';
const CROSSWALK_UPLOAD = /^\/admin\/crosswalks\/([A-Za-z][A-Za-z0-9]*)$/;

/** The admin endpoints, mounted by the gateway server under `/admin/`. */
export interface AdminApi {
  handle(request: IncomingMessage, response: ServerResponse): void;
  /** The registry's part of `/readyz`. */
  readiness(): Record<string, unknown>;
}

const FORMATS: Record<string, CrosswalkFormat> = {
  'text/csv': 'csv',
  'application/csv': 'csv',
  'application/x-ndjson': 'ndjson',
  'application/ndjson': 'ndjson',
  'application/jsonl': 'ndjson',
  'application/jsonlines': 'ndjson',
};

/** A refusal in the shape GraphQL clients read (`errors[0].extensions.code`), with its code's HTTP status. */
function refuse(response: ServerResponse, refusal: VirtualizeError): void {
  const { status, headers, body } = refusalBody(refusal);
  response.writeHead(status, { ...headers, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  response.end(body);
}

/**
 * The admin API: GraphQL at `/admin/graphql` (validate, register, update and remove sources and
 * mappings; status; audit) and streamed crosswalk uploads at `POST /admin/crosswalks/<mapping>`.
 * Every call needs an admin credential (`Authorization: Bearer`), checked before anything else:
 * 401 UNAUTHENTICATED without a known one, 403 FORBIDDEN when it lacks the scope, 403
 * ADMIN_DISABLED when the gateway has none set.
 */
export function createAdminApi(registry: Registry, definitions: RegistryDefinition['credentials'], env: NodeJS.ProcessEnv, apiKeys?: ManagedKeys): AdminApi {
  const credentials = adminCredentials(definitions, env);
  const variables = Object.values(definitions).map((definition) => definition.token.env);
  const yoga = createYoga<{ credential: AdminCredential }, AdminContext>({
    schema: adminSchema(),
    graphqlEndpoint: ADMIN_GRAPHQL_PATH,
    maskedErrors: maskErrors,
    context: ({ credential }) => ({ registry, credential, ...(apiKeys ? { apiKeys } : {}) }),
    graphiql: false,
    landingPage: false,
  });

  return {
    readiness: () => registry.readiness(),
    handle(request, response) {
      const url = new URL(request.url ?? '/', 'http://admin');
      // Node keeps only the first of repeated Authorization headers: joined, two tokens are no token.
      const sent = request.headersDistinct.authorization;
      const auth = authenticateAdmin(sent && sent.length > 1 ? sent.join(', ') : request.headers.authorization, credentials, variables);
      if (!auth.ok) {
        response.setHeader('connection', 'close');
        if (auth.refusal.httpStatus === 401) response.setHeader('www-authenticate', 'Bearer realm="virtualize-admin"');
        return refuse(response, auth.refusal);
      }
      if (url.pathname === ADMIN_GRAPHQL_PATH) return void yoga(request, response, { credential: auth.credential });
      const upload = CROSSWALK_UPLOAD.exec(url.pathname);
      if (!upload) return refuse(response, new VirtualizeError(CODES.NOT_FOUND, `No admin endpoint at ${url.pathname}: use ${ADMIN_GRAPHQL_PATH} or POST /admin/crosswalks/<mapping>.`));
      if (request.method !== 'POST') return refuse(response, new VirtualizeError(CODES.METHOD_NOT_ALLOWED, 'Upload a crosswalk with POST.', undefined, { headers: { allow: 'POST' } }));
      if (!auth.credential.scopes.has('registry:write')) {
        response.setHeader('connection', 'close');
        return refuse(response, missingScope(auth.credential, 'registry:write', 'importing a crosswalk'));
      }
      void importUpload(registry, auth.credential, upload[1]!, url, request, response);
    },
  };
}

/**
 * Streams an uploaded crosswalk (CSV with a header row, or NDJSON) into the registry. The answer
 * is NDJSON: a `progress` line every 10,000 rows, then one `result` line (`applied` says whether
 * anything was imported, `rejectedRows` why rows were refused). Refusals before the first row
 * (unknown mapping, unreadable header, unknown format) are plain 4xx errors.
 */
async function importUpload(registry: Registry, credential: AdminCredential, mapping: string, url: URL, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const contentType = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  const format = (url.searchParams.get('format') as CrosswalkFormat | null) ?? FORMATS[contentType];
  if (format !== 'csv' && format !== 'ndjson') {
    response.setHeader('connection', 'close');
    const message = `Send the crosswalk as text/csv or application/x-ndjson (or say ?format=csv|ndjson); got ${contentType || 'no content type'}.`;
    return refuse(response, new VirtualizeError(CODES.BAD_USER_INPUT, message, undefined, { status: 415 }));
  }
  const columnsParam = url.searchParams.get('columns');
  const columns = columnsParam?.split(',').map((column) => column.trim());
  if (columns && (columns.length !== 2 || columns.some((column) => column === ''))) {
    response.setHeader('connection', 'close');
    return refuse(response, new VirtualizeError(CODES.BAD_USER_INPUT, `columns takes two names, from and to, e.g. ?columns=crm_customer_id,billing_customer_number; got "${columnsParam}".`));
  }
  const bounds = registry.importBounds();
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > bounds.maxBytes) {
    // Refused before a byte of it is read; the connection cannot carry another request.
    response.setHeader('connection', 'close');
    return refuse(response, new CrosswalkTooLargeError(1, `the upload is ${declared} bytes, past registry.imports.maxUploadBytes (${bounds.maxBytes}): split the crosswalk into several uploads`));
  }
  // Whatever ends the import early (a refusal, a cancellation, an error), the rest of the body is
  // not read: the connection is closed once the answer is out, and the reader with it.
  response.once('finish', () => {
    if (!request.complete) request.destroy();
  });
  const line = (value: unknown) => response.write(`${JSON.stringify(value)}\n`);
  const start = () => {
    if (!response.headersSent) response.writeHead(200, { 'content-type': 'application/x-ndjson; charset=utf-8', 'cache-control': 'no-store' });
  };
  try {
    const rows = crosswalkRows(request, { format, bounds, ...(columns ? { columns: [columns[0]!, columns[1]!] as const } : {}) });
    const result = await registry.importCrosswalk(mapping, rows, credential.name, {
      partial: url.searchParams.get('partial') === 'true',
      onProgress: (progress) => {
        start();
        line({ type: 'progress', ...progress });
      },
    });
    start();
    line({ type: 'result', ...result });
    response.end();
  } catch (error) {
    // An unreadable crosswalk is the uploader's input: answered BAD_USER_INPUT, as every upload refusal.
    const refusal =
      error instanceof RegistryError || error instanceof CrosswalkTooLargeError
        ? error
        : error instanceof CrosswalkFileError
          ? new VirtualizeError(CODES.BAD_USER_INPUT, error.message)
          : new VirtualizeError(CODES.INTERNAL_SERVER_ERROR, 'The import failed on the gateway; nothing was imported. See the gateway log.');
    if (refusal.code === CODES.INTERNAL_SERVER_ERROR) process.stderr.write(`${JSON.stringify({ level: 'error', msg: 'crosswalk import failed', mapping, reason: String(error) })}\n`);
    if (response.headersSent) {
      // The status line went out with the first progress line: the error line carries what it would have said.
      line({ type: 'error', code: refusal.code, status: refusal.httpStatus, message: refusal.message, ...(error instanceof CrosswalkTooLargeError ? { line: error.line } : {}) });
      response.end();
    } else {
      response.setHeader('connection', 'close');
      refuse(response, refusal);
    }
  }
}
