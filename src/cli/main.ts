import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { printSchema } from 'graphql';
import { startSandboxes } from '../../sources/sandbox';
import { loadConfigFile } from '../config/load';
import { InvalidDefinitionError } from '../config/validate';
import { createGateway } from '../federation/gateway';
import { startGatewayServer } from '../server/gateway-server';

const USAGE = `Usage: virtualize <command> [options]

Commands:
  start       run the gateway (GraphiQL at /graphql)
  validate    check the configuration and build the unified schema, without starting anything
  schema      print the unified schema (SDL)

Options:
  --config <file>   configuration module or JSON (default: the project's virtualization.config)
  --root <dir>      directory that relative paths in the config resolve against (default: cwd)
  --port <n>        port for start (default: PORT or 4000)
  --sandbox         with start: also run the sandbox CRM, order and support systems
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
      help: { type: 'boolean', default: false },
    },
  });
  const command = positionals[0];
  if (values.help || !command) {
    process.stdout.write(USAGE);
    return command || values.help ? 0 : 2;
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
    case 'start':
      await start(config, baseDir, values.port, values.sandbox);
      return 0;
    default:
      process.stderr.write(`Unknown command "${command}".\n\n${USAGE}`);
      return 2;
  }
}

async function start(config: ReturnType<typeof loadConfigFile>, baseDir: string, port: string | undefined, sandbox: boolean): Promise<void> {
  const sandboxes = sandbox ? await startSandboxes({ ports: { crm: 4101, orders: 4102, support: 4103 } }) : undefined;
  if (sandboxes) {
    process.stdout.write(`Sandbox systems: crm ${sandboxes.crm.url}, orders ${sandboxes.orders.url}, support ${sandboxes.support.url}\n`);
  }
  const gateway = await createGateway(config, { baseDir });
  const server = await startGatewayServer(gateway, port ? { port: Number(port) } : {});
  process.stdout.write(`virtualize is listening: GraphiQL at ${server.url}/graphql\n`);

  const stop = async (signal: string) => {
    process.stdout.write(`${signal}: finishing requests in flight, then stopping\n`);
    await server.close();
    await sandboxes?.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
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
