/**
 * One gateway under test in a process of its own, so that it shares an event loop with neither the
 * load-generating client nor the sandboxes:
 *
 *   node dist/bench/serve-gateway.js virtualize|naive --crm <url> --orders <url> --support <url>
 *        [--support-limit <n>] [--name <name>] [--cache] [--anonymous] [--unbounded-budget]
 *
 * Listens on a free loopback port and prints one JSON line, `{"name": ..., "url": <GraphQL endpoint>}`.
 * Stops (closing its server, exit 0) on SIGTERM or SIGINT, and when its stdin ends, which is how it
 * learns that the benchmark that started it is gone. Traces when its `OTEL_*` environment says so.
 * Runs with NODE_ENV=production unless the environment sets it, as the `virtualize` command does.
 */
// First, as `bin/virtualize.js` does for `npm start`: graphql-js runs extra development-time checks
// unless NODE_ENV says production, and reads it once, when it loads.
import './production-mode';
// Then tracing starts before the gateway's modules load, as in the `virtualize` command.
import '../src/telemetry/register';
import { parseArgs } from 'node:util';
import { startNaive } from './naive-gateway';
import { parseSandboxUrls, type RunningGateway } from './project';
import { stopTracing } from '../src/telemetry/tracing';
import { startVirtualize } from './virtualize-gateway';

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      crm: { type: 'string' },
      orders: { type: 'string' },
      support: { type: 'string' },
      'support-limit': { type: 'string' },
      name: { type: 'string' },
      cache: { type: 'boolean' },
      anonymous: { type: 'boolean' },
      'unbounded-budget': { type: 'boolean' },
    },
  });
  const kind = positionals[0];
  const sandboxes = parseSandboxUrls({ crm: values.crm, orders: values.orders, support: values.support });
  let gateway: RunningGateway;
  if (kind === 'naive') {
    if (values['support-limit'] !== undefined) throw new Error('--support-limit applies to virtualize only');
    gateway = await startNaive(sandboxes);
  } else if (kind === 'virtualize') {
    const limit = values['support-limit'];
    if (limit !== undefined && !(Number.isInteger(Number(limit)) && Number(limit) > 0)) {
      throw new Error(`--support-limit takes a positive integer, got ${JSON.stringify(limit)}`);
    }
    gateway = await startVirtualize(sandboxes, {
      ...(values.name !== undefined ? { name: values.name } : {}),
      ...(limit !== undefined ? { maxConcurrency: { support: Number(limit) } } : {}),
      ...(values.cache ? { cache: true } : {}),
      ...(values.anonymous ? { anonymous: true } : {}),
      ...(values['unbounded-budget'] ? { unboundedBudget: true } : {}),
    });
  } else {
    throw new Error(`usage: serve-gateway.js virtualize|naive --crm <url> --orders <url> --support <url> [--support-limit <n>] [--name <name>] [--cache] [--anonymous] [--unbounded-budget]; got ${JSON.stringify(kind)}`);
  }
  const name = values.name ?? gateway.name;

  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    // Closing the server, then flushing the spans still buffered, when tracing.
    const closed = gateway.close().then(stopTracing);
    closed.then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(`serve-gateway ${name}: close failed: ${error instanceof Error ? error.message : String(error)}`);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  process.stdin.once('end', stop);
  process.stdin.once('error', stop);
  process.stdin.resume();

  process.stdout.write(`${JSON.stringify({ name, url: gateway.url })}\n`);
}

main().catch((error: unknown) => {
  console.error(`serve-gateway: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exit(1);
});
