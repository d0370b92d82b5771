/**
 * GraphiQL at `/graphql`, served by the gateway itself so that the page has a Content-Security-
 * Policy written for it: yoga's own GraphiQL answer carries no header of ours, and the policy
 * names the hashes of the page's inline scripts, which only whoever renders the page knows.
 *
 * The page is served when `auth.graphiql.enabled` is true (by default, unless the gateway runs in
 * production: NODE_ENV=production outside sandbox mode) or the caller holds `auth.graphiql.scope`;
 * otherwise a browser asking for it gets 404 GRAPHIQL_DISABLED, and the endpoint answers GraphQL
 * clients as before.
 */
import { createHash } from 'node:crypto';
import { shouldRenderGraphiQL, type GraphiQLOptions, type Plugin } from 'graphql-yoga';
import type { ClientAuthDefinition } from '../config/definition';
import { CODES, refusalBody, VirtualizeError } from '../errors';

/** Who asks for the page: the scopes authentication gave the request. */
interface WithScopes {
  caller: { readonly scopes: ReadonlySet<string> };
}

/**
 * Production, for the switches whose default it turns off: NODE_ENV=production outside sandbox
 * mode. The `virtualize` command sets NODE_ENV=production for every run (graphql-js is faster so),
 * and `npm start` runs the sandbox, where GraphiQL is the way in.
 */
export function productionMode(env: NodeJS.ProcessEnv, sandbox: boolean): boolean {
  return !sandbox && env.NODE_ENV === 'production';
}

/**
 * Where the start banner points a newcomer: GraphiQL when it opens for everyone, else the GraphQL
 * URL and why the page is off (so a production start does not advertise a page that answers 404).
 */
export function endpointBanner(url: string, graphiql: ClientAuthDefinition['graphiql'], production: boolean): string {
  if (graphiql.enabled ?? !production) return `GraphiQL at ${url}/graphql`;
  const opens = graphiql.scope === undefined ? '' : `, or a caller holding ${graphiql.scope}`;
  const why = graphiql.enabled === false ? 'off: auth.graphiql.enabled is false' : 'off in production: auth.graphiql.enabled';
  return `GraphQL at ${url}/graphql (GraphiQL ${why}${opens})`;
}

/** Whether `auth.graphiql` serves the page to a caller with `scopes`. */
export function graphiqlAllowed(graphiql: ClientAuthDefinition['graphiql'], production: boolean, scopes: ReadonlySet<string>): boolean {
  const enabled = graphiql.enabled ?? !production;
  return enabled || (graphiql.scope !== undefined && scopes.has(graphiql.scope));
}

const INLINE_SCRIPT = /<script(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/g;

/**
 * The policy of a rendered page. Scripts: the page's own inline scripts by hash (and nothing a
 * page of another origin or an injected tag could add), plus `blob:`, from which the editor starts
 * its workers. Styles: inline, as the editor and React set them on elements. Requests: this
 * origin only. Framing, `<base>`, forms, plugins: none.
 */
export function graphiqlPolicy(html: string): string {
  const hashes = [...html.matchAll(INLINE_SCRIPT)].map((match) => `'sha256-${createHash('sha256').update(match[1]!, 'utf8').digest('base64')}'`);
  return [
    "default-src 'none'",
    `script-src ${[...new Set(hashes)].join(' ')} blob:`,
    "worker-src 'self' blob:",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}

export interface GraphiQLPageOptions<C> {
  endpoint: string;
  /** Renders the page (its options may depend on the request's context). */
  render: (options: GraphiQLOptions) => string;
  options: (context: C) => GraphiQLOptions;
  allowed: (context: C) => boolean;
}

/**
 * The page, for yoga created with `graphiql: false`. A rendered page and its policy are kept for
 * as long as the options stay the same: the page is several megabytes, and hashing it on every
 * visit would cost more than serving it.
 */
export function useGraphiQLPage<C extends WithScopes>(page: GraphiQLPageOptions<C>): Plugin<Record<string, never>, C> {
  let rendered: { key: string; html: string; policy: string } | undefined;
  const renderOnce = (options: GraphiQLOptions) => {
    const key = JSON.stringify(options);
    if (rendered?.key !== key) {
      const html = page.render(options);
      rendered = { key, html, policy: graphiqlPolicy(html) };
    }
    return rendered;
  };
  return {
    onRequest({ request, url, serverContext, fetchAPI, endResponse }) {
      if (!shouldRenderGraphiQL(request) || (url.pathname !== page.endpoint && url.pathname !== `${page.endpoint}/`)) return;
      if (!page.allowed(serverContext)) {
        const { status, body } = refusalBody(
          new VirtualizeError(
            CODES.GRAPHIQL_DISABLED,
            'GraphiQL is off on this gateway (auth.graphiql.enabled; off by default in production, NODE_ENV=production outside sandbox mode): send queries to this URL with a GraphQL client, or ask for the scope that opens it (auth.graphiql.scope).',
          ),
        );
        endResponse(new fetchAPI.Response(body, { status, headers: { 'content-type': 'application/json; charset=utf-8' } }));
        return;
      }
      const { html, policy } = renderOnce(page.options(serverContext));
      endResponse(new fetchAPI.Response(html, { status: 200, headers: { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': policy } }));
    },
  };
}
