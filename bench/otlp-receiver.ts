/**
 * A stand-in OTLP/HTTP trace collector for the benchmark, in a process of its own:
 *
 *   node dist/bench/otlp-receiver.js
 *
 * Listens on a free loopback port and prints one JSON line, `{"url": "http://127.0.0.1:<port>"}`.
 * Accepts `POST /v1/traces` in protobuf or JSON and answers as a collector does (200, an empty
 * `ExportTraceServiceResponse`); counts export requests, bytes and spans, which `GET /stats`
 * reports and `POST /reset` zeroes. Stops on SIGTERM or SIGINT, and when its stdin ends.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ReceiverStats } from './tracing-overhead';

/** One field of a protobuf message: its number, and its bytes when length-delimited. */
function* fields(buffer: Buffer, start = 0, end = buffer.length): Generator<{ field: number; value?: Buffer }> {
  let at = start;
  const varint = (): number => {
    let result = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = buffer[at++]!;
      result += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return result;
    }
  };
  while (at < end) {
    const key = varint();
    const wire = key & 7;
    if (wire === 0) varint();
    else if (wire === 1) at += 8;
    else if (wire === 5) at += 4;
    else if (wire === 2) {
      const length = varint();
      yield { field: Math.floor(key / 8), value: buffer.subarray(at, at + length) };
      at += length;
      continue;
    } else throw new Error(`unsupported protobuf wire type ${wire}`);
    yield { field: Math.floor(key / 8) };
  }
}

/** ExportTraceServiceRequest.resource_spans (1) -> ResourceSpans.scope_spans (2) -> ScopeSpans.spans (2). */
function protobufSpans(body: Buffer): number {
  let spans = 0;
  for (const resource of fields(body)) {
    if (resource.field !== 1 || !resource.value) continue;
    for (const scope of fields(resource.value)) {
      if (scope.field !== 2 || !scope.value) continue;
      for (const span of fields(scope.value)) if (span.field === 2) spans += 1;
    }
  }
  return spans;
}

function jsonSpans(body: Buffer): number {
  const request = JSON.parse(body.toString('utf8')) as { resourceSpans?: Array<{ scopeSpans?: Array<{ spans?: unknown[] }> }> };
  return (request.resourceSpans ?? []).flatMap((resource) => resource.scopeSpans ?? []).reduce((n, scope) => n + (scope.spans?.length ?? 0), 0);
}

async function read(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function main(): Promise<void> {
  let stats: ReceiverStats = { requests: 0, bytes: 0, spans: 0 };
  const server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method === 'GET' && path === '/stats') {
      response.writeHead(200, { 'content-type': 'application/json' });
      return response.end(JSON.stringify(stats));
    }
    if (request.method === 'POST' && path === '/reset') {
      stats = { requests: 0, bytes: 0, spans: 0 };
      response.writeHead(204);
      return response.end();
    }
    if (request.method !== 'POST' || path !== '/v1/traces') {
      response.writeHead(404);
      return response.end();
    }
    read(request).then(
      (body) => {
        const json = (request.headers['content-type'] ?? '').includes('json');
        stats.requests += 1;
        stats.bytes += body.length;
        stats.spans += json ? jsonSpans(body) : protobufSpans(body);
        response.writeHead(200, { 'content-type': json ? 'application/json' : 'application/x-protobuf' });
        response.end(json ? '{}' : undefined);
      },
      () => {
        response.writeHead(400);
        response.end();
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

  const stop = () => server.close(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  process.stdin.once('end', stop);
  process.stdin.resume();
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })}\n`);
}

main().catch((error: unknown) => {
  console.error(`otlp-receiver: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exit(1);
});
