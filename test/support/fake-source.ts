/**
 * A scriptable HTTP source on an ephemeral loopback port, for the policy tests: each request is
 * answered by the script (status, headers, body, delay), and every request is recorded with the
 * time it arrived.
 */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Answer {
  status?: number;
  headers?: Record<string, string>;
  body?: string;
  /** Milliseconds before the status line is sent. */
  delayMs?: number;
  /** Never answer (the caller's timeout must act). */
  hang?: boolean;
}

export interface SeenRequest {
  n: number;
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

export interface FakeSource {
  readonly origin: string;
  readonly port: number;
  readonly requests: SeenRequest[];
  /** Requests to paths other than `except` (for instance a token endpoint). */
  count(except?: string): number;
  close(): Promise<void>;
}

export async function startFakeSource(script: (request: SeenRequest) => Answer | Promise<Answer>): Promise<FakeSource> {
  const requests: SeenRequest[] = [];
  const pending = new Set<NodeJS.Timeout>();
  const server = createServer((req, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const seen: SeenRequest = { n: requests.length + 1, method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() };
      requests.push(seen);
      void Promise.resolve(script(seen)).then((answer) => {
        if (answer.hang) return;
        const send = () => {
          const body = answer.body ?? '{}';
          res.writeHead(answer.status ?? 200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...answer.headers });
          res.end(body);
        };
        if (!answer.delayMs) return send();
        const timer = setTimeout(() => {
          pending.delete(timer);
          if (!res.destroyed) send();
        }, answer.delayMs);
        pending.add(timer);
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    port,
    requests,
    count: (except) => requests.filter((r) => except === undefined || !r.path.startsWith(except)).length,
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of pending) clearTimeout(timer);
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A port on loopback where nothing listens (it was free a moment ago). */
export async function closedPort(): Promise<number> {
  const probe = await startFakeSource(() => ({}));
  await probe.close();
  return probe.port;
}
