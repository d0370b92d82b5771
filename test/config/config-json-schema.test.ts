import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import { createJiti } from 'jiti';
import { CONFIG_SCHEMA_FILE, configJsonSchemaText } from '../../src/config/json-schema';
import { validateConfig } from '../../src/config/validate';
import { PROJECT_ROOT } from '../support/harness';

const FILE = join(PROJECT_ROOT, CONFIG_SCHEMA_FILE);

// After changing the configuration's format, regenerate the committed file with:
//   UPDATE_JSON_SCHEMA=1 npx jest test/config/config-json-schema
if (process.env.UPDATE_JSON_SCHEMA === '1') writeFileSync(FILE, configJsonSchemaText());

/** The project's own configuration file as JSON: what its default export declares, functions and all left out. */
async function projectConfigAsJson(): Promise<Record<string, unknown>> {
  const declared = await createJiti(__filename, { fsCache: false }).import(join(PROJECT_ROOT, 'virtualization.config.ts'), { default: true });
  return JSON.parse(JSON.stringify(declared)) as Record<string, unknown>;
}

describe('the JSON Schema of the configuration file', () => {
  const committed = readFileSync(FILE, 'utf8');
  const validate = new Ajv2020({ strict: false, allErrors: true }).compile(JSON.parse(committed) as object);

  it('is what the zod schema generates today (regenerate with UPDATE_JSON_SCHEMA=1)', () => {
    expect(committed).toBe(configJsonSchemaText());
  });

  it('describes every key of a runnable configuration, the cache switches among them', () => {
    type Node = { $ref?: string; properties?: Record<string, Node>; default?: unknown };
    const schema = JSON.parse(committed) as { properties: Record<string, Node>; $defs: Record<string, Node> };
    expect(Object.keys(schema.properties)).toEqual(
      expect.arrayContaining(['$schema', 'server', 'schemaDir', 'canonical', 'sources', 'mappings', 'guard', 'cache', 'registry', 'auth']),
    );
    const cache = schema.$defs[schema.properties.cache!.$ref!.replace('#/$defs/', '')]!;
    expect(cache.properties!.upstream!.properties!.enabled!.default).toBe(true);
    expect(cache.properties!.responses!.properties!.enabled!.default).toBe(true);
  });

  it("accepts the project's own configuration as JSON, with a $schema key pointing editors at it", async () => {
    const config = { $schema: `./${CONFIG_SCHEMA_FILE}`, ...(await projectConfigAsJson()) };
    expect(validate(config)).toBe(true);
    expect(validate.errors ?? []).toEqual([]);
  });

  it('refuses a mistyped key where an editor should underline it', async () => {
    const config = await projectConfigAsJson();
    const cache = { upstream: { enabeld: false } };
    expect(validate({ ...config, cache })).toBe(false);
    expect((validate.errors ?? []).map((error) => `${error.instancePath} ${JSON.stringify(error.params)}`)).toContainEqual('/cache/upstream {"additionalProperty":"enabeld"}');
  });
});

describe('what a configuration mistake says', () => {
  it('lists the transform names, names the source whose baseUrl is not a URL, and reports every mistake at once', () => {
    const config = {
      sources: {
        shop: {
          baseUrl: 'shop.example.com/api',
          entities: { Widget: { key: 'id', fields: { id: 'id', price: { from: 'price', transform: 'intt' } }, lookups: { id: { path: '/w/{value}', unique: true, methd: 'GET' } } } },
        },
      },
    };
    let message = '';
    try {
      validateConfig(config);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('(3 problems)');
    expect(message).toContain('sources.shop.baseUrl: not a URL: write the API\'s absolute base URL, e.g. https://api.example.com/v1');
    expect(message).toContain('sources.shop.entities.Widget.fields.price.transform: expected one of "string", "int", "float", "boolean", "id", "minorUnits"');
    expect(message).toContain('sources.shop.entities.Widget.lookups.id.methd: unknown key "methd": did you mean "method"?');
  });
});

it('reports a problem of shape and one of references in the same report', () => {
  const config = {
    cahce: {},
    sources: { shop: { baseUrl: 'https://shop.example.com', entities: { Widget: { key: 'id', fields: { id: 'id' }, lookups: { id: { path: '/w/{value}', unique: true } } } } } },
    mappings: { widgetInvoices: { from: { entity: 'Widget', field: 'id' }, to: { entity: 'Invoice', field: 'widgetId' }, via: { kind: 'fieldKey' }, forward: { field: 'invoices' } } },
  };
  expect(() => validateConfig(config)).toThrow(/\(2 problems\)[\s\S]*cahce: unknown key "cahce": did you mean "cache"\?[\s\S]*no source serves an entity named Invoice/);
});
