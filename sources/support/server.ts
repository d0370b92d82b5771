/**
 * The support desk sandbox: a Zendesk-flavoured API over `supportDataset(seed)`.
 *
 * Callers authenticate with OAuth 2.0 client credentials: a bearer token from `POST /oauth/token`.
 *
 * Quirks a client must handle: there is no batch endpoint at all (one call per requester email),
 * records come wrapped (`{ ticket }`, `{ requester }`), errors are `{ error, description }`, and
 * times are UTC strings without a zone marker.
 */
import { normalizeEmail } from '../sandbox/email';
import { SANDBOX_CREDENTIALS } from '../sandbox/auth';
import { isObject, parseNumericId } from '../sandbox/params';
import { route, type JsonReply, type Route } from '../sandbox/router';
import { startSandbox, type SandboxHandle, type SandboxOptions, type ShellErrorCode, type SystemRecords } from '../sandbox/server';
import { supportDataset, type SupportDataset } from './data';
import openapi from './openapi.json';

export const SUPPORT_BASE_PATH = '/api/v2';

export interface SupportSandboxOptions extends SandboxOptions {
  /** Dataset seed; default 42. */
  seed?: number;
}

const SHELL_ERROR_CODES: Record<ShellErrorCode, string> = {
  NOT_FOUND: 'InvalidEndpoint',
  METHOD_NOT_ALLOWED: 'MethodNotAllowed',
  BAD_REQUEST: 'InvalidParameter',
  PAYLOAD_TOO_LARGE: 'PayloadTooLarge',
  INTERNAL: 'InternalError',
  UNAUTHORIZED: 'Unauthorized',
  RATE_LIMITED: 'TooManyRequests',
  UNAVAILABLE: 'ServiceUnavailable',
};

/** Tickets sit in `tickets` (by requester) or `ticket` (one by id). */
const TICKET_RECORDS: SystemRecords = {
  contract: { key: 'id', date: 'created_at', enum: 'status' },
  map: (body, f) => {
    if (!isObject(body)) return body;
    if (Array.isArray(body.tickets)) return { ...body, tickets: body.tickets.map(f) };
    return 'ticket' in body ? { ...body, ticket: f(body.ticket) } : body;
  },
};

export function startSupport(options: SupportSandboxOptions = {}): Promise<SandboxHandle> {
  const { seed, ...serverOptions } = options;
  return startSandbox(
    {
      name: 'support',
      routes: supportRoutes(supportDataset(seed)),
      openapi,
      errorBody: (code, message) => ({ error: SHELL_ERROR_CODES[code], description: message }),
      records: TICKET_RECORDS,
      defaultAuth: { kind: 'oauth2ClientCredentials', ...SANDBOX_CREDENTIALS.support },
    },
    serverOptions,
  );
}

function supportRoutes(data: SupportDataset): Route[] {
  return [
    route(`GET ${SUPPORT_BASE_PATH}/tickets/{id}`, ({ params }) => {
      const id = parseNumericId(params.id);
      if (id === undefined) return fail(400, 'InvalidParameter', `ticket id must be a positive integer, got '${params.id}'`);
      const ticket = data.ticketById.get(id);
      return ticket ? ok({ ticket }) : fail(404, 'RecordNotFound', `Ticket ${id} not found`);
    }),

    route(`GET ${SUPPORT_BASE_PATH}/requesters/{id}`, ({ params }) => {
      const id = parseNumericId(params.id);
      if (id === undefined) return fail(400, 'InvalidParameter', `requester id must be a positive integer, got '${params.id}'`);
      const requester = data.requesterById.get(id);
      return requester ? ok({ requester }) : fail(404, 'RecordNotFound', `Requester ${id} not found`);
    }),

    route(`GET ${SUPPORT_BASE_PATH}/tickets`, ({ query }) => {
      const emails = query.getAll('requester_email');
      const email = emails.length === 1 ? (emails[0] as string) : '';
      if (email.trim() === '' || email.includes(',')) {
        return fail(400, 'InvalidParameter', 'requester_email takes exactly one email');
      }
      const requester = data.requesterByEmail.get(normalizeEmail(email));
      const tickets = requester ? (data.ticketsByRequester.get(requester.id) ?? []) : [];
      return ok({ tickets, count: tickets.length });
    }),
  ];
}

function ok(body: unknown): JsonReply {
  return { status: 200, body };
}

function fail(status: number, error: string, description: string): JsonReply {
  return { status, body: { error, description } };
}
