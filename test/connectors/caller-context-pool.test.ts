/**
 * A request that waits for a busy pool's connection is still created in the async context of the
 * code that asked for it, not in that of the response which freed the connection: the context is
 * read where the OpenTelemetry undici instrumentation reads it, when undici creates the request.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CallerContextPool } from '../../src/connectors/caller-context-pool';

const caller = new AsyncLocalStorage<string>();
/** Request path -> the caller whose context was active when undici created the request. */
const createdIn = new Map<string, string | undefined>();
const onCreate = (message: unknown) => {
  const { request } = message as { request: { path: string } };
  createdIn.set(request.path, caller.getStore());
};

let server: Server;
let origin: string;
beforeAll(async () => {
  subscribe('undici:request:create', onCreate);
  server = createServer((_request, response) => setTimeout(() => response.end('{}'), 20));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  unsubscribe('undici:request:create', onCreate);
  await new Promise((resolve) => server.close(resolve));
});

it('creates each queued request in the context of its caller', async () => {
  const pool = new CallerContextPool(origin, { connections: 2 });
  const send = (name: string) =>
    caller.run(name, () =>
      Promise.all(
        Array.from({ length: 6 }, async (_, i) => {
          const response = await pool.request({ method: 'GET', path: `/${name}/${i}` });
          await response.body.text();
        }),
      ),
    );
  try {
    // The first caller opens both connections; the next two share them, most of their requests queued.
    await send('a');
    await Promise.all([send('b'), send('c')]);
  } finally {
    await pool.close();
  }
  expect(createdIn.size).toBe(18);
  for (const [path, name] of createdIn) expect(name).toBe(path.split('/')[1]);
});
