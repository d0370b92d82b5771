/**
 * What the benchmark asks of its load-generating child (bench/load-generator.ts) and what the child
 * answers, over the child's IPC channel. Both sides check what they receive: a malformed message
 * is an error, never a run of zero requests.
 */
import type { Distribution } from './measure';

/** One closed-loop run of one GraphQL operation whose only variable is `id`. */
export interface LoadSpec {
  /** The GraphQL endpoint (loopback). */
  url: string;
  query: string;
  /** The ids asked, in order; the run goes through them `passes` times, all connections drawing from one cursor. */
  ids: string[];
  passes: number;
  /** Connections, each sending its next request as soon as its last is answered (no pipelining). */
  connections: number;
  headers: Record<string, string>;
  /**
   * Each request on behalf of one of `count` clients, named in `header` (an API key): request i of
   * the run sends `<prefix><1 + i mod count>`, so that each client spends its own budget at the
   * gateway as separate dashboards do. Without it every request comes from one anonymous client.
   */
  clientKeys?: { header: string; prefix: string; count: number };
  /**
   * Where in `data` the answer repeats the id it was asked for (e.g. `["customer", "id"]`): an
   * answer counts only if it is a 200 whose body parses, carries no `errors` and names that id.
   */
  idPath: string[];
  timeoutSeconds: number;
}

export type FailureKind = 'status' | 'errors' | 'body' | 'transport' | 'lost';

export interface LoadResult {
  /** Requests the run was to send: ids x passes. */
  requests: number;
  /** Answers that passed every check: the only ones in `latencyMs` and in throughput. */
  answers: number;
  failures: {
    count: number;
    /** status: not 200; errors: a GraphQL `errors` entry; body: unparseable or about another id; transport: connection error or timeout; lost: no answer and no error. */
    byKind: Record<FailureKind, number>;
    /** The first few, for the report. */
    samples: string[];
  };
  /** Null when no answer passed. */
  latencyMs: Distribution | null;
  /** From the first request to the last response. */
  wallMs: number;
  /** CPU time (user + system) the load-generating process spent during the run. */
  cpuMs: number;
}

export type LoadMessage = { kind: 'run'; spec: LoadSpec };
export type LoadAnswer = { kind: 'result'; result: LoadResult } | { kind: 'error'; message: string };

const FAILURE_KINDS: readonly FailureKind[] = ['status', 'errors', 'body', 'transport', 'lost'];

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const isStringArray = (value: unknown): value is string[] => Array.isArray(value) && value.every((item) => typeof item === 'string');
const isPositiveInteger = (value: unknown): value is number => Number.isInteger(value) && (value as number) > 0;
const isFiniteNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

export function parseLoadMessage(value: unknown): LoadMessage {
  if (!isRecord(value) || value.kind !== 'run' || !isRecord(value.spec)) throw new Error(`expected {"kind": "run", "spec": {...}}, got ${JSON.stringify(value)?.slice(0, 200)}`);
  const spec = value.spec;
  const problems: string[] = [];
  if (typeof spec.url !== 'string' || !/^http:\/\/(127\.0\.0\.1|\[::1\]|localhost):\d+\//.test(spec.url)) problems.push('url must be a loopback http URL');
  if (typeof spec.query !== 'string' || spec.query.length === 0) problems.push('query must be a non-empty string');
  if (!isStringArray(spec.ids) || spec.ids.length === 0) problems.push('ids must be a non-empty array of strings');
  if (!isPositiveInteger(spec.passes)) problems.push('passes must be a positive integer');
  if (!isPositiveInteger(spec.connections)) problems.push('connections must be a positive integer');
  if (!isRecord(spec.headers) || !Object.values(spec.headers).every((header) => typeof header === 'string')) problems.push('headers must map names to strings');
  const keys = spec.clientKeys;
  if (keys !== undefined && !(isRecord(keys) && typeof keys.header === 'string' && typeof keys.prefix === 'string' && isPositiveInteger(keys.count))) {
    problems.push('clientKeys must be {header, prefix, count}');
  }
  if (!isStringArray(spec.idPath) || spec.idPath.length === 0) problems.push('idPath must be a non-empty array of strings');
  if (!isPositiveInteger(spec.timeoutSeconds)) problems.push('timeoutSeconds must be a positive integer');
  if (problems.length === 0 && (spec.ids as string[]).length * (spec.passes as number) < (spec.connections as number)) problems.push('ids x passes must be at least connections');
  if (problems.length > 0) throw new Error(`bad load spec: ${problems.join('; ')}`);
  return { kind: 'run', spec: spec as unknown as LoadSpec };
}

function isDistribution(value: unknown): value is Distribution {
  return isRecord(value) && ['n', 'p50', 'p95', 'min', 'max', 'mean'].every((key) => isFiniteNumber(value[key]));
}

export function parseLoadAnswer(value: unknown): LoadAnswer {
  if (isRecord(value) && value.kind === 'error' && typeof value.message === 'string') return { kind: 'error', message: value.message };
  const result = isRecord(value) && value.kind === 'result' ? value.result : undefined;
  const failures = isRecord(result) ? result.failures : undefined;
  const byKind = isRecord(failures) ? failures.byKind : undefined;
  if (
    !isRecord(result) ||
    !isFiniteNumber(result.requests) ||
    !isFiniteNumber(result.answers) ||
    !isFiniteNumber(result.wallMs) ||
    !isFiniteNumber(result.cpuMs) ||
    !(result.latencyMs === null || isDistribution(result.latencyMs)) ||
    !isRecord(failures) ||
    !isFiniteNumber(failures.count) ||
    !isStringArray(failures.samples) ||
    !isRecord(byKind) ||
    !FAILURE_KINDS.every((kind) => isFiniteNumber(byKind[kind]))
  ) {
    throw new Error(`the load generator answered ${JSON.stringify(value)?.slice(0, 300)}, not a result`);
  }
  return { kind: 'result', result: result as unknown as LoadResult };
}
