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
import { notify, type WebhookTarget } from '../sandbox/webhook';
import { supportDataset, type SupportDataset, type Ticket } from './data';
import openapi from './openapi.json';

export const SUPPORT_BASE_PATH = '/api/v2';

export interface SupportSandboxOptions extends SandboxOptions {
  /** Dataset seed; default 42. */
  seed?: number;
  /** Where `PATCH /api/v2/tickets/{id}` notifies its change (signed); none by default. */
  webhook?: WebhookTarget;
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
  const { seed, webhook, ...serverOptions } = options;
  return startSandbox(
    {
      name: 'support',
      routes: supportRoutes(supportDataset(seed), webhook),
      openapi,
      errorBody: (code, message) => ({ error: SHELL_ERROR_CODES[code], description: message }),
      records: TICKET_RECORDS,
      defaultAuth: { kind: 'oauth2ClientCredentials', ...SANDBOX_CREDENTIALS.support },
    },
    serverOptions,
  );
}

/** What PATCH may change on a ticket. */
const TICKET_STATUSES = new Set(['new', 'open', 'pending', 'solved', 'closed']);

function supportRoutes(data: SupportDataset, webhook?: WebhookTarget): Route[] {
  // Tickets changed through PATCH, kept beside the (shared, immutable) dataset.
  const patched = new Map<number, Ticket>();
  const current = (ticket: Ticket): Ticket => patched.get(ticket.id) ?? ticket;
  return [
    route(`PATCH ${SUPPORT_BASE_PATH}/tickets/{id}`, ({ params, body }) => {
      const id = parseNumericId(params.id);
      const found = id === undefined ? undefined : data.ticketById.get(id);
      if (!found) return fail(404, 'RecordNotFound', `Ticket ${params.id} not found`);
      let input: unknown;
      try {
        input = JSON.parse(body);
      } catch {
        return fail(400, 'InvalidParameter', 'the body must be JSON');
      }
      const changes = (isObject(input) && isObject(input.ticket) ? input.ticket : {}) as { status?: unknown; subject?: unknown };
      if (changes.status !== undefined && !(typeof changes.status === 'string' && TICKET_STATUSES.has(changes.status))) {
        return fail(400, 'InvalidParameter', `status must be one of ${[...TICKET_STATUSES].join(', ')}`);
      }
      if (changes.subject !== undefined && typeof changes.subject !== 'string') return fail(400, 'InvalidParameter', 'subject must be a string');
      const ticket = {
        ...current(found),
        ...(changes.status === undefined ? {} : { status: changes.status }),
        ...(changes.subject === undefined ? {} : { subject: changes.subject }),
      } as Ticket;
      patched.set(ticket.id, ticket);
      void notify(webhook, { type: 'ticket.updated', entity: 'Ticket', field: 'requesterEmail', key: ticket.requester.email });
      return ok({ ticket });
    }),

    route(`GET ${SUPPORT_BASE_PATH}/tickets/{id}`, ({ params }) => {
      const id = parseNumericId(params.id);
      if (id === undefined) return fail(400, 'InvalidParameter', `ticket id must be a positive integer, got '${params.id}'`);
      const stored = data.ticketById.get(id);
      const ticket = stored && current(stored);
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
      return ok({ tickets: tickets.map(current), count: tickets.length });
    }),
  ];
}

function ok(body: unknown): JsonReply {
  return { status: 200, body };
}

function fail(status: number, error: string, description: string): JsonReply {
  return { status, body: { error, description } };
}
