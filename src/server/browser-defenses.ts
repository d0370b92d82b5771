/**
 * What keeps a web page from using the gateway through a visitor's browser: cross-origin reads
 * only for the origins `auth.cors` lists, no request a page can send without a CORS preflight
 * (form-encoded, multipart and plain-text bodies; a GET without a header a page cannot add), and
 * headers that keep any answer from being sniffed into a document or framed.
 *
 * A browser sends a "simple" request (a form post, a GET, a text/plain fetch) to any origin
 * without asking it first, with the visitor's cookies; only the reading of the answer is
 * stopped by CORS. Such a request must therefore never run a query: anything a page can send
 * only after a preflight is safe, because the preflight of an origin not listed gets no allow
 * headers and the browser never sends the request.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import type { CORSOptions, Plugin } from 'graphql-yoga';
import type { ClientAuthDefinition } from '../config/definition';
import { CODES, toGraphQLError, VirtualizeError } from '../errors';

/**
 * On every answer of the gateway (GraphQL, health, metrics, webhooks, admin API): no content-type
 * sniffing, never framed, no referrer, and a policy under which a JSON or text answer opened as a
 * page can run, load and frame nothing. The GraphiQL page replaces the policy with its own
 * (graphiql-page.ts).
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
};

/** Sets the security headers before anything answers; headers an answer sets itself take precedence. */
export function setSecurityHeaders(response: ServerResponse): void {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) response.setHeader(name, value);
}

/**
 * Headers that make a GraphQL GET (or a POST without a content type) acceptable: a page can add
 * none of them to a cross-origin request without a preflight. `x-graphql-yoga-csrf` and
 * `apollo-require-preflight` are what GraphQL clients already send for this; `x-api-key` is a
 * credential no browser attaches by itself, so a GET carrying it was written by its sender.
 * `authorization` is not one of them: a browser attaches cached Basic credentials by itself.
 */
export const CSRF_HEADERS = ['x-graphql-yoga-csrf', 'apollo-require-preflight', 'x-api-key'] as const;

/** The bodies a page can post to any origin without a preflight (the CORS-safelisted content types). */
const SIMPLE_BODY = /^\s*(application\/x-www-form-urlencoded|multipart\/form-data|text\/plain)\s*(;|$)/i;

/**
 * A POST whose body a page could have sent without a preflight is refused before it is read,
 * whatever headers it carries: the gateway reads JSON, and no client of it needs these.
 */
export function simpleBodyRefusal(request: IncomingMessage): VirtualizeError | undefined {
  if (request.method !== 'POST') return undefined;
  const type = request.headers['content-type'];
  const simple = type === undefined ? null : SIMPLE_BODY.exec(type);
  if (!simple) return undefined;
  return new VirtualizeError(
    CODES.UNSUPPORTED_MEDIA_TYPE,
    `The body is ${simple[1]!.toLowerCase()}, which any web page can post here without asking: send the request as application/json ({"query": "...", "variables": {...}}).`,
  );
}

/**
 * graphql-yoga's CSRF prevention (a request whose content type a page cannot send without a
 * preflight passes; anything else needs one of `CSRF_HEADERS`), with its refusal in the product's
 * terms: `CSRF_HEADER_REQUIRED` and what to send.
 */
export function useCsrfPrevention(): Plugin {
  const prevention = useCSRFPrevention({ requestHeaders: [...CSRF_HEADERS] });
  const check = prevention.onRequestParse!;
  return {
    onRequestParse(payload) {
      try {
        return check(payload);
      } catch {
        throw toGraphQLError(
          new VirtualizeError(
            CODES.CSRF_HEADER_REQUIRED,
            `A GET (or a body without a Content-Type) runs only with a header a web page cannot add without asking first: send ${CSRF_HEADERS.map((name) => `${name}`).join(', or ')} (x-graphql-yoga-csrf: 1 will do), or POST the query as application/json.`,
          ),
        );
      }
    },
  };
}

/** How long a browser may keep a preflight's answer, in seconds. */
const PREFLIGHT_MAX_AGE_S = 600;

/**
 * The CORS answer for each request, for yoga's `cors`: allow headers only for an origin
 * `auth.cors.origins` lists (compared exactly), that origin alone in `Access-Control-Allow-Origin`,
 * credentials only when `auth.cors.credentials` says so; for any other origin (and by default,
 * every origin) no CORS header at all, preflights included. Same-origin pages (GraphiQL) need none.
 */
export function corsFor(cors: ClientAuthDefinition['cors']): (request: Request) => CORSOptions {
  const listed = new Set(cors.origins);
  return (request) => {
    const origin = request.headers.get('origin');
    if (origin === null || !listed.has(origin)) return false;
    return { origin, methods: ['GET', 'POST'], credentials: cors.credentials, maxAge: PREFLIGHT_MAX_AGE_S };
  };
}

/**
 * When some origins are allowed, an answer depends on the request's Origin: shared caches must
 * keep one answer per origin (`Vary: Origin`), or one origin's allow header is served to another.
 * Added after yoga's CORS plugin has set its own `Vary`.
 */
export function useVaryOnOrigin(cors: ClientAuthDefinition['cors']): Plugin {
  if (cors.origins.length === 0) return {};
  return {
    onResponse({ response }) {
      const vary = response.headers.get('vary');
      if (vary === null) response.headers.set('vary', 'Origin');
      else if (!/(^|,)\s*origin\s*(,|$)/i.test(vary)) response.headers.set('vary', `${vary}, Origin`);
    },
  };
}
