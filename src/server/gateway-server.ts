import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createYoga, type GraphiQLOptions, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import { ttlPerTypeOf, useResponseCache, type ResponseStore } from '../cache/response-cache';
import { CODES, isVirtualizeError, refusalBody, VirtualizeError } from '../errors';
import type { Gateway } from '../federation/gateway';
import type { FederationContext } from '../federation/request-context';
import type { BudgetStore } from '../guard/budget-store';
import { QueryCostGuard } from '../guard/query-cost-guard';
import { useQueryCost } from '../guard/use-query-cost';
import { shapeLimitError } from '../guard/guard-errors';
import { useShapeLimits } from '../guard/use-shape-limits';
import { useMergedSelections } from '../guard/merged-selections';
import { Unauthenticated, type Authenticator } from '../auth/authenticator';
import { credentialHeadersOf } from '../auth/credentials';
import type { Caller, OperationStore } from '../auth/caller';
import { useTrustedDocuments } from '../auth/trusted-documents';
import type { ClientAuthDefinition } from '../config/definition/client-auth';
import { accessModelOf } from '../auth/generation-access';
import { PARTITION_CONTEXT_KEY, useAuthorization } from '../auth/use-authorization';
import type { LiveGateway, PinnedGeneration } from '../registry/live-gateway';
import { ADMIN_PREFIX, type AdminApi } from './admin-api';
import type { Logger } from '../telemetry/logger';
import type { GatewayMetrics } from '../telemetry/metrics';
import { OperationScope } from '../telemetry/operation-trace';
import { systemClock, type Clock } from '../time/clock';
import { useBadUserInput } from './bad-user-input';
import { capConnections, InFlightRequests, serverOptions, type HttpBounds } from './http-bounds';
import { callerCredentialOf, forwardsCaller } from './caller-credential';
import { corsFor, setSecurityHeaders, simpleBodyRefusal, useCsrfPrevention, useVaryOnOrigin } from './browser-defenses';
import { maskErrors } from './mask-errors';
import { useExplain } from './explain';
import { renderGraphiQLWithFanout } from './graphiql-fanout';
import { graphiqlAllowed, productionMode, useGraphiQLPage } from './graphiql-page';
import { readiness } from './health';
import { useOperationTelemetry } from './operation-telemetry';
import { useRejectedRecords } from './rejected-records';
import { useStaleLabel } from './stale-label';
import { useSchemaVersion } from './use-schema-version';
import { useKnownOperationTypes } from './operation-types';
import { useSelectionOrder } from './selection-order';
import { readRawBody, webhookBodyTooLarge, type WebhookReceiver } from './webhooks';

/** What the server is built from; the runtime (src/runtime/) opens each part and closes it. */
export interface GatewayServerOptions {
  port: number;
  host: string;
  /** How long graceful shutdown waits for requests in flight before it closes their sockets. */
  shutdownGraceMs?: number;
  /** Per-client budgets (`guard.budget.store`). */
  budget: BudgetStore;
  metrics: GatewayMetrics;
  /** The store of the hot-response tier (`cache.responses`). */
  responseCache: ResponseStore;
  /** `POST /webhooks/:source`. */
  webhooks: WebhookReceiver;
  /** The application log (operation lines, warnings) and the audit log. */
  logs: { app: Logger; audit: Logger };
  /** The admin API, served under `/admin/` when the gateway takes registrations at run time. */
  admin?: AdminApi;
  /** Who calls `/graphql` (`auth`): every GraphQL request is authenticated before yoga reads it. */
  authenticator: Authenticator;
  /** Headers GraphiQL opens with in its header editor (sandbox mode: the demo key). */
  graphiqlHeaders?: Readonly<Record<string, string>>;
  /** What the budget store's failure warnings are spaced on; default the process's clocks. */
  clock?: Clock;
  /** Timeouts, the connection cap and load shedding (`server` of the configuration). */
  bounds: HttpBounds;
  /** The environment `NODE_ENV` is read from (in production GraphiQL and introspection are off unless configured on); default the process's. */
  env?: NodeJS.ProcessEnv;
  /** Sandbox mode: never production, whatever NODE_ENV says (GraphiQL stays on for `npm start`). */
  sandbox?: boolean;
  /** Which documents may run (`auth.trustedDocuments`), and the manifest they are looked up in. */
  trustedDocuments: { config: ClientAuthDefinition['trustedDocuments']; operations: OperationStore };
}

/** What each request carries into yoga: the generation (schema and connectors) it runs on to the end. */
export interface GatewayServerContext {
  generation: PinnedGeneration;
  /** Who calls, decided before yoga parses anything (src/auth/). */
  caller: Caller;
  /** Why authentication refused the request; it is answered with this before anything reads its body. */
  refusal?: VirtualizeError;
}

export interface GatewayServer {
  readonly url: string;
  readonly port: number;
  readonly yoga: YogaServerInstance<GatewayServerContext, FederationContext>;
  /** Stops accepting requests and lets those in flight finish (up to the grace period). */
  close(): Promise<void>;
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}

async function sendMetrics(response: ServerResponse, metrics: GatewayMetrics): Promise<void> {
  const { contentType, text } = await metrics.exposition();
  response.writeHead(200, { 'content-type': contentType, 'content-length': Buffer.byteLength(text) });
  response.end(text);
}

/**
 * A GraphQL POST whose body is too large, or of unknown length, is refused before it is read
 * (GraphQL-over-HTTP error shape, connection closed). Checked here rather than by yoga's own
 * limit, which streams every body through a counting transform: a tenth of a hot answer's time.
 */
function refuseBody(request: IncomingMessage, response: ServerResponse, maxBytes: number): boolean {
  if (request.method !== 'POST') return false;
  const declared = request.headers['content-length'];
  const refusal =
    declared === undefined
      ? new VirtualizeError(CODES.LENGTH_REQUIRED, `Send the request body with a Content-Length header (bodies of up to ${maxBytes} bytes are read).`)
      : Number(declared) > maxBytes
        ? shapeLimitError('requestBytes', maxBytes, `The request body is ${declared} bytes; at most ${maxBytes} are read (guard.limits.requestBytes).`)
        : undefined;
  if (!refusal) return false;
  // The body is not read, so the connection cannot carry another request.
  sendRefusal(response, refusal, { connection: 'close' });
  return true;
}

/** Any refusal made outside GraphQL, in the product's one refusal body, with its code's status. */
function sendRefusal(response: ServerResponse, refusal: VirtualizeError, extraHeaders: Readonly<Record<string, string>> = {}): void {
  const { status, headers, body } = refusalBody(refusal);
  response.writeHead(status, { ...headers, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), ...extraHeaders });
  response.end(body);
}

/**
 * The caller of a request that authentication refused (its `refusal` says why), or that sent no
 * credential and asks only for what needs none: the GraphiQL page (a GET that accepts HTML; its
 * queries carry the key) or a CORS preflight. Such a request goes through yoga's first hooks
 * only, so that the page, the preflight and the refusal carry the CORS and security headers of
 * every answer: `useCredentialRequired` answers it (401 and its challenge) before anything reads
 * its body, unless yoga answered it first (the page, the preflight). It never reaches execution.
 */
const NOT_AUTHENTICATED: Caller = Object.freeze({ kind: 'anonymous', clientId: 'unauthenticated', subject: undefined, tenant: undefined, keyId: undefined, issuer: undefined, scopes: new Set<string>(), claims: {} });

/** Requests that may come without a credential: nothing they ask for runs a query (see NOT_AUTHENTICATED). */
function asksForPageOnly(request: IncomingMessage): boolean {
  if (request.method === 'OPTIONS') return true;
  return request.method === 'GET' && (request.headers.accept ?? '').includes('text/html');
}

/** Answers, in yoga's first hooks after the page, a request with no caller: its refusal, or that of no credential. */
function useCredentialRequired(authenticator: Authenticator): Plugin {
  return {
    onRequest({ serverContext, endResponse, fetchAPI }) {
      // Also a request that reached yoga some other way than this server (yoga.fetch): no caller, no query.
      const { caller, refusal } = serverContext as Partial<GatewayServerContext>;
      if (caller !== undefined && caller !== NOT_AUTHENTICATED) return;
      const { status, headers, body } = refusalBody(refusal ?? authenticator.noCredential());
      // The body is not read, so the connection cannot carry another request.
      endResponse(new fetchAPI.Response(body, { status, headers: { ...headers, 'content-type': 'application/json; charset=utf-8', connection: 'close' } }));
    },
  };
}

/** The caller of a request (`GatewayServerContext.caller`), for plugins that are given a function. */
export function callerOf(context: unknown): Caller {
  return (context as GatewayServerContext).caller;
}

/** A budget store that fails is reported at most this often; requests meanwhile run uncharged. */
const BUDGET_WARNING_INTERVAL_MS = 10_000;

function budgetWarnings(logger: Logger, clock: Clock): (error: unknown) => void {
  let lastAt = -Infinity;
  return (error) => {
    if (clock.now() - lastAt < BUDGET_WARNING_INTERVAL_MS) return;
    lastAt = clock.now();
    logger.warn({ reason: error instanceof Error ? error.message : String(error) }, 'budget store failed; requests run uncharged');
  };
}

/** One cost guard per generation, built on its first request: its cost model reads that generation's schema. */
const costGuards = new WeakMap<Gateway, QueryCostGuard>();

function costGuardOf(generation: Gateway): QueryCostGuard {
  let guard = costGuards.get(generation);
  if (!guard) {
    guard = QueryCostGuard.forGateway(generation);
    costGuards.set(generation, guard);
  }
  return guard;
}

/**
 * The HTTP face of the gateway: GraphQL (with GraphiQL and its fan-out panel) behind the query
 * guard (shape limits, then cost and budget), explain, operation telemetry, health, readiness,
 * metrics, webhooks and the admin API. Each request runs on the generation it pinned, so a
 * hot-reload swap never changes a schema under it.
 */
export async function startGatewayServer(live: LiveGateway, options: GatewayServerOptions): Promise<GatewayServer> {
  const example = live.config.examples[0];
  const { guard: guardConfig, auth: authConfig } = live.config;
  const { budget, metrics, responseCache, webhooks, authenticator } = options;
  const logger = options.logs.app;
  const operations = new OperationScope();
  const production = productionMode(options.env ?? process.env, options.sandbox === true);
  const authorization = useAuthorization({
    model: (context) => accessModelOf((context as GatewayServerContext).generation.gateway),
    mode: authConfig.authorization.mode,
    policies: authConfig.authorization.policies,
    introspection: { enabled: authConfig.introspection.enabled ?? !production, scope: authConfig.introspection.scope },
  });
  const graphiqlOptions: GraphiQLOptions = {
    title: 'virtualize',
    defaultQuery: example?.query,
    // In sandbox mode the demo key, so that the page's queries run as they are.
    ...(options.graphiqlHeaders ? { headers: JSON.stringify(options.graphiqlHeaders, null, 2) } : {}),
    defaultTabs: live.config.examples.map((tab) => ({ query: tab.query, variables: tab.variables ?? null, ...(options.graphiqlHeaders ? { headers: JSON.stringify(options.graphiqlHeaders, null, 2) } : {}) })),
  };
  const yoga = createYoga<GatewayServerContext, FederationContext>({
    schema: ({ generation }) => generation.gateway.schema,
    graphqlEndpoint: '/graphql',
    maskedErrors: maskErrors,
    // The operation being served observes its upstream calls and wraps its delegations in spans.
    // Sources that forward their caller are given the caller's token; no other source sees anything of the client.
    context: (requestContext) =>
      requestContext.generation.gateway.createContext(operations.of(requestContext), callerCredentialOf(requestContext.caller, requestContext.request.headers, live.config.auth.jwt.issuers)),
    landingPage: false,
    // Cross-origin reads for the origins auth.cors lists only; none by default.
    cors: corsFor(live.config.auth.cors),
    // Served by useGraphiQLPage below, with a Content-Security-Policy of its own.
    graphiql: false,
    // Uploads are not a feature, and a multipart body is one a web page can post without a preflight.
    multipart: false,
    batching: { limit: guardConfig.limits.batchedOperations },
    // A registered operation may be asked for by `documentId` (GraphQL over HTTP's persisted documents).
    extraParamNames: ['documentId'],
    // Bodies are bounded before yoga reads them (refuseBody).
    maxRequestBodySize: false,
    plugins: [
      useGraphiQLPage<GatewayServerContext>({
        endpoint: '/graphql',
        // Served from the package itself: the default page loads its assets from a public CDN, which
        // leaves analysts on closed networks with a blank page.
        render: renderGraphiQLWithFanout,
        options: () => graphiqlOptions,
        allowed: ({ caller }) => graphiqlAllowed(live.config.auth.graphiql, production, caller.scopes),
      }),
      // Next: nothing below runs for a request that sent no credential (the page above needs none).
      useCredentialRequired(authenticator),
      useCsrfPrevention(),
      useVaryOnOrigin(live.config.auth.cors),
      // A document that may not run is refused on the request's parameters, before it is parsed.
      useTrustedDocuments({ ...options.trustedDocuments, count: metrics.recordTrustedDocument }),
      useShapeLimits(guardConfig.limits),
      useBadUserInput(),
      useKnownOperationTypes(),
      // Before the guard: what the caller may not see is neither priced nor fetched.
      authorization.plugin,
      useQueryCost({
        // Priced against the schema of the generation the request runs on.
        guard: (context) => costGuardOf((context as GatewayServerContext).generation.gateway),
        budget,
        // The authenticated caller's bucket: rotating a key is a different client only if the key is real.
        clientOf: (context) => callerOf(context).clientId,
        onBudgetError: budgetWarnings(logger, options.clock ?? systemClock),
      }),
      // Before the response cache, so that a stored answer is stored in order.
      useSelectionOrder(),
      // After the selection order: filter mode's denied keys are put back in the order the client asked.
      authorization.answers,
      // Before the response cache, so that an answer from the cache also says its schema version.
      useSchemaVersion(),
      // Before the response cache, so that an answer with stale values is labelled and never stored.
      useStaleLabel(),
      // Before the response cache, so that a hot answer keeps its count of records left out.
      useRejectedRecords(),
      // After the guard, so that an answer from the cache is still charged.
      // Keyed by the caller's authorization partition, which useAuthorization decided.
      useResponseCache(responseCache, {
        ttlPerType: ttlPerTypeOf(live.config.cache, live.catalog),
        // A source that answers per caller makes an answer its caller's alone.
        ownerOf: (context) => {
          const { generation, caller } = context as GatewayServerContext;
          return forwardsCaller(generation.gateway.config) ? caller.clientId : undefined;
        },
        partition: (context) => (context as { [PARTITION_CONTEXT_KEY]?: string })[PARTITION_CONTEXT_KEY],
      }),
      useExplain({ catalogOf: (context) => (context as GatewayServerContext).generation.gateway.catalog }),
      // Execution (and every delegation) walks the operation with its fragments merged, once.
      useMergedSelections(),
      // Last, so that it reads the result every other plugin leaves (extensions.cost among them).
      useOperationTelemetry({
        scope: operations,
        metrics,
        logger,
        audit: options.logs.audit,
        callerOf,
      }),
    ],
  });

  let draining = false;
  const refusals = { refused: (reason: 'connections' | 'in_flight') => metrics.recordRefusal(reason) };
  const inFlight = new InFlightRequests(options.bounds, refusals);
  const server: Server = createServer(serverOptions(options.bounds), (request: IncomingMessage, response: ServerResponse) => {
    setSecurityHeaders(response);
    const path = (request.url ?? '/').split('?')[0];
    if (path === '/healthz') return sendJson(response, 200, { status: 'ok' });
    if (path === '/metrics') {
      sendMetrics(response, metrics).catch((error: unknown) => {
        logger.error({ reason: error instanceof Error ? error.message : String(error) }, 'metrics could not be collected');
        sendRefusal(response, new VirtualizeError(CODES.INTERNAL_SERVER_ERROR, 'The metrics could not be collected; the gateway log has the cause.'));
      });
      return;
    }
    if (path === '/readyz') {
      const report = readiness(live, draining);
      return sendJson(response, report.status === 'ready' ? 200 : 503, { ...report, schemaVersion: live.version, ...(options.admin ? { registry: options.admin.readiness() } : {}) });
    }
    if (options.admin && path?.startsWith(ADMIN_PREFIX)) return options.admin.handle(request, response);
    const webhook = /^\/webhooks\/([A-Za-z0-9_-]+)$/.exec(path ?? '');
    if (webhook && request.method === 'POST') {
      readRawBody(request)
        .then((raw) => {
          if (raw === undefined) throw webhookBodyTooLarge();
          return webhooks.receive(webhook[1]!, request.headers, raw);
        })
        .then(
          (reply) => sendJson(response, reply.status, reply.body),
          (error: unknown) => {
            // A body too large may be unread: the connection cannot carry another request.
            if (isVirtualizeError(error)) return sendRefusal(response, error, error.code === CODES.REQUEST_TOO_LARGE ? { connection: 'close' } : {});
            logger.error({ source: webhook[1], reason: error instanceof Error ? error.message : String(error) }, 'webhook could not be applied');
            sendRefusal(response, new VirtualizeError(CODES.INTERNAL_SERVER_ERROR, 'The webhook could not be applied; the gateway log has the cause.', {}, { cause: error }));
          },
        );
      return;
    }
    if (path === '/') {
      response.writeHead(302, { location: '/graphql' });
      return response.end();
    }
    // Before the body is read: a body a web page can send cross-site without a preflight runs nothing.
    const simpleBody = simpleBodyRefusal(request);
    if (simpleBody) return sendRefusal(response, simpleBody, { connection: 'close' });
    const overloaded = inFlight.admit(request, response);
    // The body is not read, so the connection cannot carry another request.
    if (overloaded) return sendRefusal(response, overloaded, { connection: 'close' });
    if (refuseBody(request, response, guardConfig.limits.requestBytes)) return;
    authenticateRequest(request).then(
      ({ caller, refusal }) => {
        if (response.destroyed) return;
        if (draining) response.setHeader('connection', 'close');
        const generation = live.pin();
        response.once('close', generation.release);
        void yoga(request, response, { generation, caller, ...(refusal ? { refusal } : {}) });
      },
      (error: unknown) => {
        // The body is not read, so the connection cannot carry another request.
        if (isVirtualizeError(error)) return sendRefusal(response, error, { connection: 'close' });
        logger.error({ reason: error instanceof Error ? error.message : String(error) }, 'the caller could not be authenticated');
        sendRefusal(response, new VirtualizeError(CODES.INTERNAL_SERVER_ERROR, 'The caller could not be authenticated; the gateway log has the cause.', {}, { cause: error }), { connection: 'close' });
      },
    );
  });

  capConnections(server, options.bounds, refusals);

  /**
   * The caller of a GraphQL request, from its headers, before yoga reads anything: refused (401)
   * without a valid credential, except for what needs none (asksForPageOnly).
   */
  async function authenticateRequest(request: IncomingMessage): Promise<{ caller: Caller; refusal?: Unauthenticated }> {
    if (asksForPageOnly(request) && !authenticator.allowsAnonymous && !authenticator.carriesCredential(credentialHeadersOf(request))) return { caller: NOT_AUTHENTICATED };
    try {
      return { caller: await authenticator.authenticate({ headers: credentialHeadersOf(request), address: request.socket.remoteAddress }) };
    } catch (error) {
      if (error instanceof Unauthenticated) return { caller: NOT_AUTHENTICATED, refusal: error };
      throw error;
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const shownHost = options.host === '0.0.0.0' || options.host === '::' ? 'localhost' : options.host;

  let closing: Promise<void> | undefined;
  return {
    url: `http://${shownHost}:${port}`,
    port,
    yoga,
    close: () => {
      closing ??= (async () => {
        draining = true;
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        // Keep-alive sockets become idle as their last response ends; close each as soon as it does.
        server.closeIdleConnections();
        const sweep = setInterval(() => server.closeIdleConnections(), 25);
        const grace = setTimeout(() => server.closeAllConnections(), options.shutdownGraceMs ?? 10_000);
        await closed;
        clearInterval(sweep);
        clearTimeout(grace);
      })();
      return closing;
    },
  };
}
