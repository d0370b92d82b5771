import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfigFile } from '../../src/config/load';
import { startFakeSource, type FakeSource } from '../support/fake-source';
import { PROJECT_ROOT, startTestRuntime } from '../support/harness';

const BIN = join(PROJECT_ROOT, 'bin/virtualize.js');

/** `virtualize <args>` from `cwd` (not the project), as a user runs it from their own directory. */
function run(args: string[], cwd: string): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', timeout: 20_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** A configuration for a new system: one source, no canonical schema directory, TypeScript. */
function newSystemConfig(baseUrl: string, extra = ''): string {
  return `export default {
  sources: {
    shop: {
      baseUrl: ${JSON.stringify(baseUrl)},
      entities: {
        Widget: {
          key: 'id',
          fields: { id: 'id', name: 'name' },
          lookups: { id: { path: '/widgets/{value}', unique: true } },
        },
      },
    },
  },${extra}
} as const;
`;
}

describe('a configuration file for new systems', () => {
  let dir: string;
  let elsewhere: string;
  let source: FakeSource;

  beforeAll(async () => {
    source = await startFakeSource((request) =>
      request.path === '/api/widgets/w1' ? { body: JSON.stringify({ id: 'w1', name: 'Sprocket' }) } : { status: 404, body: '{}' },
    );
    dir = mkdtempSync(join(tmpdir(), 'virtualize-newsystem-'));
    elsewhere = mkdtempSync(join(tmpdir(), 'virtualize-cwd-'));
    writeFileSync(join(dir, 'my.config.ts'), newSystemConfig(`${source.origin}/api`));
  });
  afterAll(() => source.close());

  it('validates with no schema directory, from another directory, without a build', () => {
    const result = run(['validate', '--config', join(dir, 'my.config.ts')], elsewhere);
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe('Configuration is valid: 1 sources, 0 mappings.\n');
    expect(result.status).toBe(0);
  });

  it('starts and answers a query from the source', async () => {
    const config = await loadConfigFile(join(dir, 'my.config.ts'));
    expect(config.schemaDir).toBe(false);
    // Anonymous callers let in: the file declares no client authentication, and the gateway refuses callers without it.
    const runtime = await startTestRuntime({ ...config, auth: { ...config.auth, anonymous: { scopes: [] } } }, { env: {}, baseDir: elsewhere });
    try {
      const response = await fetch(`${runtime.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ widget(id: "w1") { id name } }' }),
      });
      expect(((await response.json()) as { data: unknown }).data).toEqual({ widget: { id: 'w1', name: 'Sprocket' } });
      expect(source.count()).toBe(1);
    } finally {
      await runtime.close();
    }
  });

  it('reads schemaDir relative to the config file, and warns of a canonical type no source serves', () => {
    const withSchema = mkdtempSync(join(tmpdir(), 'virtualize-withschema-'));
    mkdirSync(join(withSchema, 'model'));
    writeFileSync(join(withSchema, 'model', 'types.graphql'), '"""A thing sold."""\ntype Widget { id: String! name: String }\ntype Customer { id: ID! }\n');
    writeFileSync(join(withSchema, 'my.config.ts'), newSystemConfig(`${source.origin}/api`, "\n  schemaDir: 'model',"));
    const result = run(['schema', '--config', join(withSchema, 'my.config.ts')], elsewhere);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('A thing sold.');
    expect(result.stderr).toContain('no source serves, left out of the schema: Customer (the whole type)');

    writeFileSync(join(withSchema, 'strict.config.ts'), newSystemConfig(`${source.origin}/api`, "\n  schemaDir: 'model',\n  canonical: { strict: true },"));
    const strict = run(['validate', '--config', join(withSchema, 'strict.config.ts')], elsewhere);
    expect(strict.status).toBe(1);
    expect(strict.stderr).toContain('Customer (the whole type)');
  });

  it('says which directory a declared schemaDir is missing, and takes an empty one as no hand-written types', () => {
    const missing = mkdtempSync(join(tmpdir(), 'virtualize-missing-'));
    writeFileSync(join(missing, 'my.config.ts'), newSystemConfig(`${source.origin}/api`, "\n  schemaDir: 'model',"));
    const result = run(['validate', '--config', join(missing, 'my.config.ts')], elsewhere);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`schemaDir ${join(missing, 'model')} is not a directory`);

    mkdirSync(join(missing, 'model'));
    expect(run(['validate', '--config', join(missing, 'my.config.ts')], elsewhere).status).toBe(0);
  });

  it('reports a typo in a TypeScript config file without a build, and a syntax error with its line', () => {
    const typo = mkdtempSync(join(tmpdir(), 'virtualize-typo-'));
    writeFileSync(join(typo, 'my.config.ts'), newSystemConfig(`${source.origin}/api`, '\n  cahce: { upstream: { enabled: false } },'));
    const result = run(['validate', '--config', join(typo, 'my.config.ts')], elsewhere);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`in ${join(typo, 'my.config.ts')}`);
    expect(result.stderr).toContain('cahce: unknown key "cahce": did you mean "cache"?');

    writeFileSync(join(typo, 'broken.config.ts'), 'export default {\n  sources: {}\n  mappings: {},\n};\n');
    const broken = run(['validate', '--config', join(typo, 'broken.config.ts')], elsewhere);
    expect(broken.status).toBe(1);
    expect(broken.stderr).toMatch(new RegExp(`^${join(typo, 'broken.config.ts').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3: `));
  });
});
