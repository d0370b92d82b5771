/**
 * Route templates over plain paths: `GET /api/orders/{id}`. A template is both the matcher and
 * the key under which the sandbox counts requests, so counts read the way an API is documented
 * rather than per concrete URL.
 */

/** The parameter names of a template: `'GET /a/{id}/b/{ref}'` -> `'id' | 'ref'`. */
type ParamNames<T extends string> = T extends `${string}{${infer Name}}${infer Rest}`
  ? Name | ParamNames<Rest>
  : never;

/** Path parameters, already percent-decoded. */
export type Params<T extends string> = { readonly [K in ParamNames<T>]: string };

/** What a handler receives: decoded path parameters, the query string and the body text. */
export interface RouteContext<P> {
  readonly params: P;
  readonly query: URLSearchParams;
  /** The request body as UTF-8 text; empty for GET. */
  readonly body: string;
}

/** A JSON answer; the server serializes `body` and sets the content headers. */
export interface JsonReply {
  readonly status: number;
  readonly body: unknown;
}

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** A compiled route; build one with `route()`. */
export interface Route {
  /** `METHOD /path/{param}`, the key requests are counted under. */
  readonly template: string;
  readonly method: HttpMethod;
  readonly segments: readonly Segment[];
  readonly handle: (context: RouteContext<Readonly<Record<string, string>>>) => JsonReply;
}

type Segment = { readonly literal: string } | { readonly param: string };

const TEMPLATE = /^(GET|POST|PUT|PATCH|DELETE) (\/[^\s?#]*)$/;

/**
 * Declares a route. The handler's `params` are typed from the template, so a handler cannot read
 * a parameter its path does not have. Malformed templates throw here, at definition time.
 */
export function route<T extends string>(
  template: T,
  handle: (context: RouteContext<Params<T>>) => JsonReply,
): Route {
  const match = TEMPLATE.exec(template);
  if (!match) {
    throw new TypeError(`route template must look like 'GET /path/{param}', got '${template}'`);
  }
  const [, method, path] = match as unknown as [string, HttpMethod, string];
  const segments = path
    .split('/')
    .slice(1)
    .map((part): Segment => {
      const param = /^\{(\w+)\}$/.exec(part);
      if (param) return { param: param[1] as string };
      if (part.includes('{') || part.includes('}')) {
        throw new TypeError(`route template '${template}': a parameter must be a whole segment, as in '{id}'`);
      }
      return { literal: part };
    });
  return {
    template,
    method,
    segments,
    // The router fills exactly the parameters named in the template, which is what Params<T>
    // describes; TypeScript cannot see that through the string parsing, hence the cast.
    handle: handle as Route['handle'],
  };
}

export type RouteMatch =
  | { readonly kind: 'found'; readonly route: Route; readonly params: Readonly<Record<string, string>> }
  | { readonly kind: 'method-not-allowed'; readonly allow: readonly HttpMethod[] }
  | { readonly kind: 'not-found' }
  /** A path parameter that is not valid percent-encoding. */
  | { readonly kind: 'bad-path' };

/** Matches requests against a fixed list of routes. Duplicate templates throw at construction. */
export class Router {
  readonly routes: readonly Route[];

  constructor(routes: readonly Route[]) {
    const seen = new Set<string>();
    for (const r of routes) {
      if (seen.has(r.template)) throw new TypeError(`route '${r.template}' is declared twice`);
      seen.add(r.template);
    }
    this.routes = routes;
  }

  match(method: string, pathname: string): RouteMatch {
    const parts = pathname.split('/').slice(1);
    const allow: HttpMethod[] = [];
    for (const candidate of this.routes) {
      const raw = matchSegments(candidate.segments, parts);
      if (raw === undefined) continue;
      if (candidate.method !== method) {
        allow.push(candidate.method);
        continue;
      }
      const params: Record<string, string> = {};
      for (const [name, value] of Object.entries(raw)) {
        try {
          params[name] = decodeURIComponent(value);
        } catch {
          return { kind: 'bad-path' };
        }
      }
      return { kind: 'found', route: candidate, params };
    }
    return allow.length > 0 ? { kind: 'method-not-allowed', allow } : { kind: 'not-found' };
  }
}

/** Raw (still encoded) parameter values when the path fits the segments, else undefined. */
function matchSegments(segments: readonly Segment[], parts: readonly string[]): Record<string, string> | undefined {
  if (segments.length !== parts.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i] as Segment;
    const part = parts[i] as string;
    if ('literal' in segment) {
      if (segment.literal !== part) return undefined;
    } else {
      if (part === '') return undefined;
      params[segment.param] = part;
    }
  }
  return params;
}
