import { existsSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { printSchema } from 'graphql';
import type { VirtualizationConfig } from '../config/definition';
import { ConfigLoadError, loadConfigFile } from '../config/load';
import { InvalidDefinitionError } from '../config/validate';
import { priceDocument } from '../guard/price-document';
import { QueryCostGuard } from '../guard/query-cost-guard';
import type { Gateway } from '../federation/gateway';
import { uncoveredFields } from '../federation/gateway-schema';
import { createRuntime } from '../runtime/create-runtime';
import { adminCredentials } from '../server/admin-auth';
import { endpointBanner, productionMode } from '../server/graphiql-page';
import { createGeneration } from '../runtime/generations';
import { createLogger, destinationOf, type Logger } from '../telemetry/logger';
import { stopTracing } from '../telemetry/tracing';
import { ADMIN_COMMANDS, ADMIN_USAGE, runAdminCommand } from './admin-commands';
import { costReport, formatPrice } from './cost-report';
import type { SandboxModeOptions } from './sandbox-mode';

const USAGE = `Usage: virtualize <command> [options]

Commands:
  start       run the gateway (GraphiQL at /graphql)
  validate    check the configuration and build the unified schema, without starting anything
  schema      print the unified schema (SDL)
  cost <file.graphql>
              price an operation without running it: points, upstream calls per source, the
              most expensive paths; exits 1 when the gateway would refuse it
  sandbox     run only the sandbox CRM, order and support systems (prints their URLs as JSON)
  sources, mappings, status, audit, operations
              register sources, mappings and trusted operations in a running gateway (below)

Options:
  --config <file>   configuration file: .ts, .js or .json (default: the project's
                    virtualization.config.ts, read as it is on disk, no build needed)
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

/** The project's own `virtualization.config.ts`, read from disk as it is (never the compiled copy under dist/). */
function defaultConfigPath(): string {
  const root = basename(resolve(__dirname, '../..')) === 'dist' ? resolve(__dirname, '../../..') : resolve(__dirname, '../..');
  const source = join(root, 'virtualization.config.ts');
  return existsSync(source) ? source : join(root, 'virtualization.config.json');
}

/** The CLI's generations log nothing to stdout (`schema` prints the SDL there); what they leave out is said on stderr. */
const quietLogger = (): Logger => createLogger('app', destinationOf('stderr')!, 'silent');

function warnUncovered(gateway: Gateway): void {
  const missing = uncoveredFields(gateway.schema, gateway.canonical);
  if (missing.length > 0) {
    process.stderr.write(
      `Warning: the canonical schema defines what no source serves, left out of the schema: ${missing.join(', ')}. ` +
        'Map them in a source, declare the join that provides them, or remove them from the schemaDir (canonical.strict: true refuses them).\n',
    );
  }
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
  // The sandboxes' module (and with it `sources/`) is loaded only when they are asked for.
  const sandboxMode = command === 'sandbox' || (command === 'start' && values.sandbox) ? loadSandboxMode() : undefined;
  const sandboxOptions = sandboxMode ? { latencyMs: Number(values.latency ?? 0), ports: sandboxMode.sandboxPorts(values['sandbox-ports']) } : undefined;
  if (command === 'sandbox') {
    const sandboxes = await sandboxMode!.runSandboxes(sandboxOptions!);
    onSignal(async () => {
      await sandboxes.close();
      process.exit(0);
    });
    return 0;
  }
  const config = await loadConfigFile(values.config ?? defaultConfigPath());
  const baseDir = resolve(values.root ?? process.cwd());

  switch (command) {
    case 'validate': {
      const gateway = await createGeneration(config, { baseDir, env: process.env, logger: quietLogger() });
      warnUncovered(gateway);
      await gateway.close();
      process.stdout.write(`Configuration is valid: ${Object.keys(config.sources).length} sources, ${Object.keys(config.mappings).length} mappings.\n`);
      return 0;
    }
    case 'schema': {
      const gateway = await createGeneration(config, { baseDir, env: process.env, logger: quietLogger() });
      warnUncovered(gateway);
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
      const gateway = await createGeneration(config, { baseDir, env: process.env, logger: quietLogger() });
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
      await start(config, baseDir, values.port, sandboxOptions);
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

/** The sandbox systems' wiring, required at the moment they are asked for (a static import would load `sources/` on every start). */
function loadSandboxMode(): typeof import('./sandbox-mode') {
  return require('./sandbox-mode') as typeof import('./sandbox-mode');
}

/** SIGTERM (an orchestrator) and SIGINT (Ctrl-C) both stop gracefully. */
function onSignal(stop: (signal: string) => Promise<void>): void {
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

/** The gateway (with its registry and admin API), and with `--sandbox` the sandbox systems beside it; nothing stays open when it cannot start. */
async function start(config: VirtualizationConfig, baseDir: string, port: string | undefined, sandbox: SandboxModeOptions | undefined): Promise<void> {
  const sandboxes = sandbox ? await loadSandboxMode().startSandboxMode(config, sandbox, process.env) : undefined;
  // Sandboxes on free ports are found through their URLs; a URL the environment sets still wins.
  const env = sandboxes ? { ...sandboxes.env, ...process.env } : process.env;
  const sandboxMode = sandbox ? loadSandboxMode() : undefined;
  // In sandbox mode GraphiQL opens with the demo key in its headers, so that its queries run as they are.
  const demoKey = sandboxes ? env[sandboxMode!.DEMO_KEY_VARIABLE] : undefined;
  const runtime = await createRuntime(config, {
    baseDir,
    env,
    sandbox: sandboxes !== undefined,
    ...(demoKey ? { graphiqlHeaders: { 'x-api-key': demoKey } } : {}),
    ...(port ? { port: Number(port) } : {}),
  }).catch(async (error: unknown) => {
    // A gateway that cannot start leaves nothing running behind it.
    await sandboxes?.close();
    throw error;
  });
  sandboxes?.notify(runtime.url);
  const admin = adminCredentials(config.registry.credentials, process.env).length > 0
    ? `admin API at ${runtime.url}/admin/graphql`
    : `admin API off: set ${Object.values(config.registry.credentials).map((credential) => credential.token.env).join(' or ') || 'a registry.credentials token variable'} to turn it on`;
  const endpoint = endpointBanner(runtime.url, config.auth.graphiql, productionMode(env, sandboxes !== undefined));
  process.stdout.write(`virtualize is listening: ${endpoint}; ${admin}\n`);
  if (sandboxMode) process.stdout.write(sandboxMode.sandboxBanner(runtime.url, env));

  onSignal(async (signal) => {
    process.stdout.write(`${signal}: finishing requests in flight, then stopping\n`);
    await runtime.close();
    await sandboxes?.close();
    // Flushes the spans still buffered (a no-op when tracing is off).
    await stopTracing();
    process.exit(0);
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== 0) process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof InvalidDefinitionError || error instanceof ConfigLoadError) process.stderr.write(`${error.message}\n`);
    else process.stderr.write(`virtualize: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
