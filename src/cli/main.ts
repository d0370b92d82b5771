import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { printSchema } from 'graphql';
import { startSandboxes, type WebhookTarget } from '../../sources/sandbox';
import { startBilling, BILLING_SANDBOX_KEY } from '../../sources/billing/server';
import { loadConfigFile } from '../config/load';
import { InvalidDefinitionError } from '../config/validate';
import { createGateway } from '../federation/gateway';
import { priceDocument } from '../guard/price-document';
import { QueryCostGuard } from '../guard/query-cost-guard';
import { costReport, formatPrice } from './cost-report';
import { SANDBOX_PORTS } from '../../virtualization.config';
import { startGatewayServer, type GatewayServer } from '../server/gateway-server';
import { openRegistry } from '../registry/open-registry';
import { createAdminApi } from '../server/admin-api';
import { ADMIN_COMMANDS, ADMIN_USAGE, runAdminCommand } from './admin-commands';
import { resolveEnv } from '../config/env';
import { CacheCounters } from '../telemetry/metrics';
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
  sources, mappings, status, audit
              register sources and mappings in a running gateway (below)

Options:
  --config <file>   configuration module or JSON (default: the project's virtualization.config)
  --root <dir>      directory that relative paths in the config resolve against (default: cwd)
  --port <n>        port for start (default: PORT or 4000)
  --sandbox         with start: also run the sandbox CRM, order and support systems, and the
                    billing system (not declared: register it, see the README)
  --latency <ms>    with sandbox or start --sandbox: delay every sandbox call (default 0)
  --sandbox-ports <crm,orders,support[,billing]>
                    sandbox ports (default 4101,4102,4103,4104; 0 picks free ones)
  --variables <json>
                    with cost: the operation's variables, as JSON
  --operation <name>
                    with cost: the operation to price, when the file holds several
  --json            with cost: print the estimate as JSON
  --help            this text

${ADMIN_USAGE}`;

function defaultConfigPath(): string {
  // Compiled layout: dist/src/cli/main.js next to dist/virtualization.config.js.
  const compiled = join(__dirname, '../../virtualization.config.js');
  return existsSync(compiled) ? compiled : join(__dirname, '../../virtualization.config.ts');
}

async function main(argv: string[]): Promise<number> {
  if (ADMIN_COMMANDS.has(argv[0] ?? '')) return runAdminCommand(argv);
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

function sandboxPorts(text: string | undefined): SandboxesOptions['ports'] & { billing: number } {
  const ports = (text ?? `${SANDBOX_PORTS.crm},${SANDBOX_PORTS.orders},${SANDBOX_PORTS.support}`).split(',').map(Number);
  if (ports.length < 3 || ports.length > 4 || ports.some((port) => !Number.isInteger(port) || port < 0 || port > 65_535)) {
    throw new Error(`--sandbox-ports takes three or four ports, crm,orders,support[,billing] (for example 4101,4102,4103 or 0,0,0); got "${text}"`);
  }
  // Without a fourth port, billing takes a free one when the others do, else its usual one.
  const billing = ports[3] ?? (ports.every((port) => port === 0) ? 0 : SANDBOX_PORTS.billing);
  return { crm: ports[0], orders: ports[1], support: ports[2], billing };
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

/** The gateway with its registry and admin API; nothing stays open when it cannot start. */
async function serve(config: ReturnType<typeof loadConfigFile>, baseDir: string, port: string | undefined): Promise<GatewayServer> {
  // Counters first: the cache tiers are given them when they are opened.
  const cacheMetrics = new CacheCounters();
  const registry = await openRegistry(config, { baseDir, env: process.env, cacheDeps: { metrics: cacheMetrics } });
  try {
    return await startGatewayServer(registry.gateway, { ...(port ? { port: Number(port) } : {}), admin: createAdminApi(registry, config.registry.credentials, process.env), cacheMetrics });
  } catch (error) {
    await registry.close();
    throw error;
  }
}

/** Where the sandboxes send their signed change notifications: this gateway's webhooks, once it listens. */
function webhookTargets(config: ReturnType<typeof loadConfigFile>): Record<string, WebhookTarget> {
  const targets: Record<string, WebhookTarget> = {};
  for (const [source, secret] of Object.entries(config.cache.webhooks.secrets)) {
    try {
      targets[source] = { secret: resolveEnv(secret, process.env) };
    } catch {
      // No secret for this source: its sandbox sends no notifications.
    }
  }
  return targets;
}

async function start(config: ReturnType<typeof loadConfigFile>, baseDir: string, port: string | undefined, sandbox: (SandboxesOptions & { ports: ReturnType<typeof sandboxPorts> }) | undefined): Promise<void> {
  const targets = webhookTargets(config);
  const sandboxes = sandbox ? await startSandboxes({ ...sandbox, webhooks: targets }) : undefined;
  // The fourth system, which the configuration does not declare: an architect registers it at run time.
  const billing = sandbox ? await startBilling({ port: sandbox.ports.billing, apiKey: process.env.BILLING_API_KEY ?? BILLING_SANDBOX_KEY }) : undefined;
  if (sandboxes) {
    process.stdout.write(`Sandbox systems: crm ${sandboxes.crm.url}, orders ${sandboxes.orders.url}, support ${sandboxes.support.url}, billing ${billing?.url} (not declared)\n`);
  }
  const server = await serve(config, baseDir, port).catch(async (error: unknown) => {
    // A gateway that cannot start leaves nothing running behind it.
    await Promise.all([sandboxes?.close(), billing?.close()]);
    throw error;
  });
  for (const [source, target] of Object.entries(targets)) target.url = `${server.url}/webhooks/${source}`;
  process.stdout.write(`virtualize is listening: GraphiQL at ${server.url}/graphql (admin API at ${server.url}/admin/graphql)\n`);

  const stop = async (signal: string) => {
    process.stdout.write(`${signal}: finishing requests in flight, then stopping\n`);
    await server.close();
    await sandboxes?.close();
    await billing?.close();
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
