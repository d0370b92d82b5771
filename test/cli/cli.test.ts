import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSandboxes } from '../../sources/sandbox';
import { TEST_WEBHOOK_SECRETS } from '../support/gateway-process';
import { DEMO_HEADERS, PROJECT_ROOT, sandboxEnv } from '../support/harness';
import { DEMO_KEY_ENV } from '../../virtualization.config';

// The compiled command, as users run it (`npm test` builds first).
const BIN = join(PROJECT_ROOT, 'bin/virtualize.js');

function run(args: string[], env: NodeJS.ProcessEnv = process.env): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [BIN, ...args], { cwd: PROJECT_ROOT, encoding: 'utf8', timeout: 20_000, env });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('virtualize command', () => {
  it('validates the built-in configuration', () => {
    const result = run(['validate']);
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe('Configuration is valid: 3 sources, 2 mappings.\n');
    expect(result.status).toBe(0);
  });

  it('prints every problem of a broken configuration with its path, and exits 1', () => {
    const dir = mkdtempSync(join(tmpdir(), 'virtualize-cli-'));
    const file = join(dir, 'broken.json');
    writeFileSync(file, JSON.stringify({ sources: { crm: { baseUrl: 'http://127.0.0.1:1', entities: { customer: { key: 'id', fields: {}, lookups: {} } } } } }));
    const result = run(['validate', '--config', file]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('The configuration is invalid');
    expect(result.stderr).toContain('sources.crm.entities.customer');
    expect(result.stderr).toContain('PascalCase');
  });

  it('prints the unified schema', () => {
    const result = run(['schema']);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('type Customer');
    expect(result.stdout).toContain('orders(');
  });

  it('starts the gateway without loading the sandbox systems, and on SIGTERM finishes the request in flight before it exits', async () => {
    const sandboxes = await startSandboxes({ latencyMs: 300, ports: { crm: 0, orders: 0, support: 0 } });
    // Reports, as the process exits, which modules under sources/ it loaded.
    const hook = join(mkdtempSync(join(tmpdir(), 'virtualize-modules-')), 'modules.js');
    writeFileSync(hook, `process.on('exit', () => process.stderr.write('modules ' + JSON.stringify(Object.keys(require.cache).filter((path) => path.includes('/sources/'))) + '\\n'));`);
    const child = spawn(process.execPath, ['--require', hook, BIN, 'start', '--port', '0'], {
      cwd: PROJECT_ROOT,
      // DATABASE_URL off: the registry's file store (read-only here) instead of CI's shared database.
      env: { ...process.env, ...sandboxEnv(sandboxes), ...TEST_WEBHOOK_SECRETS, ...DEMO_KEY_ENV, HOST: '127.0.0.1', DATABASE_URL: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let output = '';
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no start-up line in: ${output}`)), 15_000);
        child.stdout.on('data', (chunk: Buffer) => {
          output += chunk.toString();
          const match = /Graphi?QL at (http:\/\/[^\s;]+)/.exec(output);
          if (match) {
            clearTimeout(timer);
            resolve(match[1]!);
          }
        });
      });
      // In flight once the CRM has its call (it answers 300 ms later).
      const arrived = sandboxes.crm.nextRequest();
      const inFlight = fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...DEMO_HEADERS },
        body: JSON.stringify({ query: '{ customers(first: 2) { nodes { name orders { id } } } }' }),
      });
      // An answer before the CRM is called is a refusal: fail with it instead of waiting forever.
      await Promise.race([
        arrived,
        inFlight.then(async (early) => {
          throw new Error(`${url} answered ${early.status} before the CRM was called: ${await early.clone().text()}`);
        }),
      ]);
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const response = await inFlight;
      const body = (await response.json()) as { data: { customers: { nodes: unknown[] } } };
      expect(response.status).toBe(200);
      expect(body.data.customers.nodes).toHaveLength(2);
      expect(await exited).toBe(0);
      // Only the sandbox credentials that the built-in configuration's defaults name: no sandbox system.
      const modules = JSON.parse(/^modules (.*)$/m.exec(stderr)![1]!) as string[];
      expect(modules.map((path) => path.slice(path.indexOf('/sources/')))).toEqual(['/sources/sandbox/auth.ts']);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await sandboxes.close();
    }
  });

  it('refuses to start, saying how to fix it, when no client could authenticate and anonymous access is not declared', () => {
    const env: NodeJS.ProcessEnv = { ...process.env, ...TEST_WEBHOOK_SECRETS, HOST: '127.0.0.1', DATABASE_URL: '' };
    for (const variable of [...Object.keys(DEMO_KEY_ENV), 'VIRTUALIZE_ADMIN_TOKEN']) delete env[variable];
    const result = run(['start', '--port', '0'], env);
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('virtualize: Refusing to start: no client could authenticate to /graphql and anonymous access is not declared.');
    // Each way out is named: the static keys' variables, an issuer, the admin token for managed keys, anonymous access.
    expect(result.stderr).toContain('set VIRTUALIZE_DEMO_KEY or VIRTUALIZE_DEMO_LIMITED_KEY');
    expect(result.stderr).toContain('auth.jwt.issuers');
    expect(result.stderr).toContain('set VIRTUALIZE_ADMIN_TOKEN so that managed keys can be created');
    expect(result.stderr).toContain('auth: { anonymous: { scopes: [...] } }');
  });

  it('prices an operation without running it, and exits 1 with the reason when the gateway would refuse it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'virtualize-cost-'));
    const file = join(dir, 'customer360.graphql');
    writeFileSync(file, 'query Customer360($first: Int = 5) { customers(first: $first) { nodes { name orders(first: 3) { number } tickets { subject } } } }');

    const within = run(['cost', file, '--variables', '{"first": 50}']);
    expect(within.stderr).toBe('');
    expect(within.stdout).toBe(
      '451 points (limit 10000)\n' +
        'upstream calls: crm 1 (limit 20), orders 1 (limit 100), support 50 (limit 250)\n' +
        'most expensive: customers.nodes.tickets 250 (55%), customers.nodes.orders 150 (33%), customers.nodes 50 (11%)\n',
    );
    expect(within.status).toBe(0);

    const refused = run(['cost', file, '--variables', '{"first": 300}']);
    expect(refused.status).toBe(1);
    expect(refused.stdout).toMatch(/^refused \(COST_LIMIT_EXCEEDED\): This query would make about 300 calls to support/m);

    const json = run(['cost', file, '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ requestedQueryCost: 46, maximumCost: 10_000, upstreamCalls: { support: { predicted: 5, maximum: 250 } }, errors: [] });

    writeFileSync(file, '{ customers(first: 1) { nodes { nope } } }');
    const invalid = run(['cost', file]);
    expect(invalid.status).toBe(1);
    expect(invalid.stdout).toContain('Cannot query field "nope" on type "Customer"');
  });

  it("prints the README's worked example over generated types, figure for figure", () => {
    const readme = readFileSync(join(PROJECT_ROOT, 'README.md'), 'utf8');
    const shown = /```sh\n\$ npx virtualize cost customer360\.graphql --config generated\.config\.ts --variables '(.*)'\n([\s\S]*?)```/.exec(readme);
    const query = /where `customer360\.graphql` is\n\n```\n([\s\S]*?)```/.exec(readme);
    expect(shown).not.toBeNull();
    expect(query).not.toBeNull();
    const dir = mkdtempSync(join(tmpdir(), 'virtualize-cost-'));
    writeFileSync(join(dir, 'customer360.graphql'), query![1]!);
    writeFileSync(join(dir, 'generated.config.ts'), `import base from ${JSON.stringify(join(PROJECT_ROOT, 'virtualization.config'))};\nexport default { ...base, schemaDir: false };\n`);
    const result = run(['cost', join(dir, 'customer360.graphql'), '--config', join(dir, 'generated.config.ts'), '--root', PROJECT_ROOT, '--variables', shown![1]!]);
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe(shown![2]);
    expect(result.status).toBe(0);
  });

  it('runs the sandbox systems alone, says where, and stops on SIGTERM', async () => {
    const child = spawn(process.execPath, [BIN, 'sandbox', '--sandbox-ports', '0,0,0'], { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const line = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no URLs printed')), 15_000);
        child.stdout.once('data', (chunk: Buffer) => {
          clearTimeout(timer);
          resolve(chunk.toString());
        });
      });
      const urls = JSON.parse(line) as { crm: string; orders: string; support: string };
      const contract = await fetch(`${urls.orders}/openapi.json`);
      expect(contract.status).toBe(200);
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
