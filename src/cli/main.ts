import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { printSchema } from 'graphql';
import { startSandboxes, type WebhookTarget } from '../../sources/sandbox';
import { loadConfigFile } from '../config/load';
import { InvalidDefinitionError } from '../config/validate';
import { createGateway } from '../federation/gateway';
import { priceDocument } from '../guard/price-document';
import { QueryCostGuard } from '../guard/query-cost-guard';
import { costReport, formatPrice } from './cost-report';
import { SANDBOX_PORTS } from '../../virtualization.config';
import { resolveEnv } from '../config/env';
import { startGatewayServer } from '../server/gateway-server';
import { stopTracing } from '../telemetry/tracing';

const USAGE = `Usage: virtualize <command> [options]

Commands:
  start       run the gateway (GraphiQL at /graphql)
  validate    check the configuration and build the unified schema, without starting anything
  schema      print the unified schema (SDL)
  cost <file.graphql>
              price an operation without running it: points, upstream calls per source, the
              most expensive paths; exits 1 when the gateway would refuse it
  sandbox     run only the sandbox CRM, order and support systems (prints their URLs as JSON)

Options:
  --config <file>   configuration module or JSON (default: the project's virtualization.config)
  --root <dir>      directory that relative paths in the config resolve against (default: cwd)
  --port <n>        port for start (default: PORT or 4000)
  --sandbox         with start: also run the sandbox CRM, order and support systems
  --latency <ms>    with sandbox or start --sandbox: delay every sandbox call (default 0)
  --sandbox-ports <crm,orders,support>
                    sandbox ports (default 4101,4102,4103; 0 picks free ones)
  --variables <json>
                    with cost: the operation's variables, as JSON
  --operation <name>
                    with cost: the operation to price, when the file holds several
  --json            with cost: print the estimate as JSON
  --help            this text
`;

function defaultConfigPath(): string {
  // Compiled layout: dist/src/cli/main.js next to dist/virtualization.config.js.
  const compiled = join(__dirname, '../../virtualization.config.js');
  return existsSync(compiled) ? compiled : join(__dirname, '../../virtualization.config.ts');
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: 'string' },
      root: { type: 'string' },
      port: { type: 'string' },
      sandbox: { type: 'boolean', default: false },
      latency: { type: 'string' },
      'sandbox-ports': { type: 'string' },
      variables: { type: 'string' },
      operation: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  const command = positionals[0];
  if (values.help || !command) {
    process.stdout.write(USAGE);
    return command || values.help ? 0 : 2;
  }
  const sandboxOptions = { latencyMs: Number(values.latency ?? 0), ports: sandboxPorts(values['sandbox-ports']) };
  if (command === 'sandbox') {
    await runSandboxes(sandboxOptions);
    return 0;
  }
  const config = loadConfigFile(values.config ?? defaultConfigPath());
  const baseDir = resolve(values.root ?? process.cwd());

  switch (command) {
    case 'validate': {
      const gateway = await createGateway(config, { baseDir });
      await gateway.close();
      process.stdout.write(`Configuration is valid: ${Object.keys(config.sources).length} sources, ${Object.keys(config.mappings).length} mappings.\n`);
      return 0;
    }
    case 'schema': {
      const gateway = await createGateway(config, { baseDir });
      process.stdout.write(printSchema(gateway.schema));
      await gateway.close();
      return 0;
    }
    case 'cost': {
      const file = positionals[1];
      if (!file) {
        process.stderr.write(`cost needs a file: virtualize cost <file.graphql>\n\n${USAGE}`);
        return 2;
      }
      const gateway = await createGateway(config, { baseDir });
      try {
        const variables = values.variables === undefined ? undefined : parseVariables(values.variables);
        const guard = QueryCostGuard.forGateway(gateway);
        const price = priceDocument(guard, config.guard.limits, readFileSync(resolve(file), 'utf8'), { variables, operationName: values.operation });
        process.stdout.write(values.json ? `${JSON.stringify(costReport(guard, price), null, 2)}\n` : formatPrice(guard, price));
        return price.errors.length === 0 ? 0 : 1;
      } finally {
        await gateway.close();
      }
    }
    case 'start':
      await start(config, baseDir, values.port, values.sandbox ? sandboxOptions : undefined);
      return 0;
    default:
      process.stderr.write(`Unknown command "${command}".\n\n${USAGE}`);
      return 2;
  }
}

function parseVariables(text: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error(`--variables takes a JSON object, for example '{"first": 50}'; got ${text}`);
  return parsed as Record<string, unknown>;
}

type SandboxesOptions = NonNullable<Parameters<typeof startSandboxes>[0]>;

function sandboxPorts(text: string | undefined): SandboxesOptions['ports'] {
  const ports = (text ?? `${SANDBOX_PORTS.crm},${SANDBOX_PORTS.orders},${SANDBOX_PORTS.support}`).split(',').map(Number);
  if (ports.length !== 3 || ports.some((port) => !Number.isInteger(port) || port < 0 || port > 65_535)) {
    throw new Error(`--sandbox-ports takes three ports, crm,orders,support (for example 4101,4102,4103 or 0,0,0); got "${text}"`);
  }
  return { crm: ports[0], orders: ports[1], support: ports[2] };
}

/** SIGTERM (an orchestrator) and SIGINT (Ctrl-C) both stop gracefully. */
function onSignal(stop: (signal: string) => Promise<void>): void {
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

async function runSandboxes(options: SandboxesOptions): Promise<void> {
  const sandboxes = await startSandboxes(options);
  process.stdout.write(`${JSON.stringify({ crm: sandboxes.crm.url, orders: sandboxes.orders.url, support: sandboxes.support.url })}\n`);
  onSignal(async () => {
    await sandboxes.close();
    process.exit(0);
  });
}

async function start(config: ReturnType<typeof loadConfigFile>, baseDir: string, port: string | undefined, sandbox: SandboxesOptions | undefined): Promise<void> {
  // The sandboxes notify their changes (write endpoints) to this gateway's webhooks, signed with
  // the secrets the config declares; where to is known once the gateway listens.
  const targets: Record<string, WebhookTarget> = {};
  for (const [source, secret] of Object.entries(config.cache.webhooks.secrets)) {
    const resolved = (() => {
      try {
        return resolveEnv(secret, process.env);
      } catch {
        return undefined;
      }
    })();
    if (resolved) targets[source] = { secret: resolved };
  }
  const sandboxes = sandbox ? await startSandboxes({ ...sandbox, webhooks: targets }) : undefined;
  if (sandboxes) {
    process.stdout.write(`Sandbox systems: crm ${sandboxes.crm.url}, orders ${sandboxes.orders.url}, support ${sandboxes.support.url}\n`);
  }
  const gateway = await createGateway(config, { baseDir });
  const server = await startGatewayServer(gateway, port ? { port: Number(port) } : {});
  for (const [source, target] of Object.entries(targets)) target.url = `${server.url}/webhooks/${source}`;
  process.stdout.write(`virtualize is listening: GraphiQL at ${server.url}/graphql\n`);

  const stop = async (signal: string) => {
    process.stdout.write(`${signal}: finishing requests in flight, then stopping\n`);
    await server.close();
    await sandboxes?.close();
    // Flushes the spans still buffered (a no-op when tracing is off).
    await stopTracing();
    process.exit(0);
  };
  onSignal(stop);
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== 0) process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof InvalidDefinitionError) process.stderr.write(`${error.message}\n`);
    else process.stderr.write(`virtualize: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
