/**
 * The load generator's run, apart from its process (bench/load-generator.ts) so that it can be
 * tested in one: autocannon drives the connections; every answer is judged before it counts.
 */
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { distribution } from './measure';
import type { FailureKind, LoadResult, LoadSpec } from './load-protocol';

const MAX_SAMPLES = 5;

/** What autocannon keeps per connection between a request and its response (reset for each request). */
interface Asked {
  id?: string;
}

type Verdict = 'ok' | { kind: Exclude<FailureKind, 'transport' | 'lost'>; detail: string };

function at(value: unknown, path: readonly string[]): unknown {
  let current = value;
  for (const key of path) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

/** Whole-body check: status, JSON, no GraphQL errors, and the answer is about the id asked. */
export function judge(status: number, body: string, id: string | undefined, idPath: readonly string[]): Verdict {
  if (status !== 200) return { kind: 'status', detail: `${status}: ${body.slice(0, 300)}` };
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return { kind: 'body', detail: `not JSON: ${body.slice(0, 300)}` };
  }
  const errors = (parsed as { errors?: unknown } | null)?.errors;
  if (Array.isArray(errors) && errors.length > 0) return { kind: 'errors', detail: `${id}: ${JSON.stringify(errors).slice(0, 300)}` };
  const answered = at((parsed as { data?: unknown } | null)?.data, idPath);
  if (id === undefined || answered !== id) return { kind: 'body', detail: `asked ${id}, data.${idPath.join('.')} is ${JSON.stringify(answered)}` };
  return 'ok';
}

/** A run under way, stopped by `stopLoad`. */
let current: autocannon.Instance | undefined;

/** Stops the run under way, if any (its promise then settles with what it has). */
export function stopLoad(): void {
  current?.stop();
}

export function loadRunning(): boolean {
  return current !== undefined;
}

/**
 * One closed-loop run with autocannon: `spec.connections` connections, each sending its next
 * request as soon as its last is answered, all drawing ids from one cursor over `spec.ids`.
 */
export function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const requests = spec.ids.length * spec.passes;
  // Bodies and client headers built once: the run itself only picks them.
  const bodies = new Map(spec.ids.map((id) => [id, Buffer.from(JSON.stringify({ query: spec.query, variables: { id } }))]));
  const keys = spec.clientKeys;
  const clientHeaders = keys ? Array.from({ length: keys.count }, (_, i) => ({ [keys.header]: `${keys.prefix}${i + 1}` })) : [];
  const latencies = new Float64Array(requests);
  let answers = 0;
  const byKind: Record<FailureKind, number> = { status: 0, errors: 0, body: 0, transport: 0, lost: 0 };
  const samples: string[] = [];
  const fail = (kind: FailureKind, detail: string) => {
    byKind[kind] += 1;
    if (samples.length < MAX_SAMPLES) samples.push(`${kind}: ${detail}`);
  };
  let cursor = 0;
  // autocannon calls a request's onResponse and then, synchronously, emits `response` with the
  // latency: the verdict of the one is handed to the other here.
  let verdict: Verdict | undefined;

  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  let lastResponseAt = started;
  return new Promise<LoadResult>((resolve, reject) => {
    const instance = autocannon(
      {
        url: spec.url,
        method: 'POST',
        connections: spec.connections,
        pipelining: 1,
        amount: requests,
        timeout: spec.timeoutSeconds,
        // How often autocannon samples its own counters, and so how soon it notices the end of the run.
        sampleInt: 100,
        headers: { 'content-type': 'application/json', accept: 'application/json', ...spec.headers },
        requests: [
          {
            setupRequest: (request, context) => {
              const position = cursor++;
              const id = spec.ids[position % spec.ids.length]!;
              (context as Asked).id = id;
              request.body = bodies.get(id)!;
              if (clientHeaders.length > 0) request.headers = { ...request.headers, ...clientHeaders[position % clientHeaders.length] };
              return request;
            },
            onResponse: (status, body, context) => {
              verdict = judge(status, body, (context as Asked).id, spec.idPath);
            },
          },
        ],
      },
      (error, result) => {
        current = undefined;
        if (error) {
          reject(error instanceof Error ? error : new Error(String(error)));
          return;
        }
        const cpu = process.cpuUsage(cpuBefore);
        const failed = byKind.status + byKind.errors + byKind.body;
        byKind.transport = result.errors;
        const unaccounted = requests - answers - failed - byKind.transport;
        if (unaccounted > 0) fail('lost', `${unaccounted} requests had neither an answer nor an error`);
        if (byKind.transport > 0 && samples.length < MAX_SAMPLES) samples.push(`transport: ${result.errors} connection errors (${result.timeouts} timeouts)`);
        resolve({
          requests,
          answers,
          failures: { count: failed + byKind.transport + byKind.lost, byKind, samples },
          latencyMs: answers > 0 ? distribution(Array.from(latencies.subarray(0, answers))) : null,
          wallMs: lastResponseAt - started,
          cpuMs: (cpu.user + cpu.system) / 1000,
        });
      },
    );
    current = instance;
    instance.on('response', (_client, _status, _bytes, responseTime) => {
      lastResponseAt = performance.now();
      const judged = verdict ?? { kind: 'body' as const, detail: 'a response autocannon did not hand to onResponse' };
      verdict = undefined;
      if (judged === 'ok') latencies[answers++] = responseTime;
      else fail(judged.kind, judged.detail);
    });
  });
}
