import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import { DEFINITION_SCHEMA_FILE, definitionJsonSchemaText } from '../../src/config/json-schema';
import { PROJECT_ROOT } from '../support/harness';

const FILE = join(PROJECT_ROOT, DEFINITION_SCHEMA_FILE);

// After changing src/config/definition.ts, regenerate the committed file with:
//   UPDATE_JSON_SCHEMA=1 npx jest test/config/json-schema
if (process.env.UPDATE_JSON_SCHEMA === '1') writeFileSync(FILE, definitionJsonSchemaText());

describe('the JSON Schema of definition files', () => {
  const committed = readFileSync(FILE, 'utf8');
  const validate = new Ajv2020({ strict: false, allErrors: true }).compile(JSON.parse(committed) as object);

  it('is what the zod schema generates today (regenerate with UPDATE_JSON_SCHEMA=1)', () => {
    expect(committed).toBe(definitionJsonSchemaText());
  });

  it('accepts the billing definition an architect registers, which points editors at it', () => {
    const document = JSON.parse(readFileSync(join(PROJECT_ROOT, 'sources/billing/definition.json'), 'utf8')) as Record<string, unknown>;
    expect(document.$schema).toBe(`../../${DEFINITION_SCHEMA_FILE}`);
    expect(validate(document)).toBe(true);
  });

  it('points at the mistake an editor should underline', () => {
    const document = JSON.parse(readFileSync(join(PROJECT_ROOT, 'sources/billing/definition.json'), 'utf8')) as {
      sources: { billing: { entities: { Invoice: { lookups: { id: Record<string, unknown> } } } } };
    };
    document.sources.billing.entities.Invoice.lookups.id.method = 'PUT';
    document.sources.billing.entities.Invoice.lookups.id.resultPaht = 'results';
    expect(validate(document)).toBe(false);
    const where = (validate.errors ?? []).map((error) => `${error.instancePath} ${error.message ?? ''} ${JSON.stringify(error.params)}`);
    expect(where).toEqual(
      expect.arrayContaining([
        expect.stringContaining('/sources/billing/entities/Invoice/lookups/id/method must be equal to one of the allowed values'),
        expect.stringContaining('"additionalProperty":"resultPaht"'),
      ]),
    );
  });
});
