import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import config from '../../virtualization.config';
import { definitionDocument, sourceDefinition, type VirtualizationConfigInput } from '../../src/config/definition';
import { checkShape, formatProblem, InvalidDefinitionError, validateConfig, type DefinitionProblem } from '../../src/config/validate';
import { PROJECT_ROOT } from '../support/harness';

const billingDocument = () => JSON.parse(readFileSync(join(PROJECT_ROOT, 'sources/billing/definition.json'), 'utf8')) as { sources: Record<string, any>; mappings: Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any

function problemsOf(input: unknown): DefinitionProblem[] {
  try {
    validateConfig(input);
    return [];
  } catch (error) {
    if (error instanceof InvalidDefinitionError) return error.problems;
    throw error;
  }
}

/** The built-in configuration with the billing document laid over it, as the registry merges them. */
function withBilling(edit: (document: ReturnType<typeof billingDocument>) => void = () => undefined): VirtualizationConfigInput {
  const document = billingDocument();
  edit(document);
  return { ...config, sources: { ...config.sources, ...document.sources }, mappings: { ...config.mappings, ...document.mappings } };
}

describe('the definition format', () => {
  it('accepts the billing definition: POST batch reads, numeric ids, partial answers, properties by name, page numbers', () => {
    expect(problemsOf(withBilling())).toEqual([]);
  });

  it('says where each problem is, what was expected there and what was found', () => {
    const shape = checkShape(definitionDocument, {
      sources: {
        billing: {
          baseUrl: 42,
          auth: { type: 'basic', user: 'x' },
          limits: { timeoutMs: 0 },
          entities: { Invoice: { key: 'id', fields: { id: 'id' }, lookups: { id: { method: 'PUT', path: '/i/{value}', unique: true } }, lookup: {} } },
        },
      },
    });
    expect(shape.ok).toBe(false);
    const problems = shape.ok ? [] : shape.problems;
    expect(problems).toEqual(
      expect.arrayContaining([
        { path: 'sources.billing.baseUrl', message: 'expected a string or an object, found the number 42', expected: 'a string or an object', found: 'the number 42' },
        {
          path: 'sources.billing.auth.type',
          message: '"type" must be one of "none", "header", "bearer", "oauth2ClientCredentials", found the string "basic"',
          expected: 'one of "none", "header", "bearer", "oauth2ClientCredentials"',
          found: 'the string "basic"',
        },
        { path: 'sources.billing.limits.timeoutMs', message: 'expected a number at least 1, found the number 0', expected: 'a number at least 1', found: 'the number 0' },
        { path: 'sources.billing.entities.Invoice.lookups.id.method', message: 'expected one of "GET", "POST", found the string "PUT"', expected: 'one of "GET", "POST"', found: 'the string "PUT"' },
        expect.objectContaining({ path: 'sources.billing.entities.Invoice.lookup', message: 'unknown key "lookup": did you mean "lookups"?', found: '"lookup"' }),
      ]),
    );
  });

  it('names the keys allowed where an unknown one is, for the form the value has chosen', () => {
    const shape = checkShape(sourceDefinition, { baseUrl: 'http://x', auth: { type: 'bearer', token: { env: 'T' }, header: 'x' }, entities: {} });
    const problems = shape.ok ? [] : shape.problems;
    expect(problems).toEqual([expect.objectContaining({ path: 'auth.header', expected: 'one of type, token', message: 'unknown key "header": the keys here are type, token' })]);
  });

  it('prints a problem on one line, without repeating what the message says', () => {
    expect(formatProblem({ path: 'a.b', message: 'expected one of "GET", "POST", found the string "PUT"', expected: 'one of "GET", "POST"', found: 'the string "PUT"' })).toBe(
      'a.b: expected one of "GET", "POST", found the string "PUT"',
    );
    expect(formatProblem({ path: 'a.c', message: 'not a mapped field', expected: 'a field of Invoice', found: '"amount"' })).toBe('a.c: not a mapped field (expected a field of Invoice; found "amount")');
  });

  it('checks each endpoint: keys sent where the method carries them, properties declared when asked for', () => {
    const problems = problemsOf(
      withBilling((document) => {
        const invoice = document.sources.billing.entities.Invoice;
        invoice.lookups.id.method = 'GET';
        invoice.lookups.customerNumber.body = { customerNumbers: '{value}' };
        delete invoice.properties;
      }),
    );
    const at = 'sources.billing.entities.Invoice';
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: `${at}.lookups.id.body`, message: expect.stringContaining('a body is sent only with method POST') }),
        expect.objectContaining({ path: `${at}.lookups.id`, message: expect.stringContaining('{properties} needs the entity to say where properties live') }),
        expect.objectContaining({ path: `${at}.lookups.customerNumber`, message: 'a batch lookup must send its keys: put {values} in its path, query or body, or repeat a template per key (body [{ "id": "{value}" }], query ["{value}"])', found: '{value}' }),
      ]),
    );
  });

  it('checks crosswalks: a file needs its columns; a master-data service needs its entity, fields and lookups', () => {
    const problems = problemsOf(
      withBilling((document) => {
        document.mappings.customerInvoices.via = { kind: 'crosswalk', file: 'x.csv' };
        document.mappings.viaService = {
          from: { entity: 'Customer', field: 'id' },
          to: { entity: 'Invoice', field: 'customerNumber' },
          via: { kind: 'service', entity: 'Invoice', from: 'customerRef', to: 'customerNumber' },
          forward: { field: 'invoicesAgain' },
          inverse: { field: 'customerAgain' },
        };
      }),
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: 'mappings.customerInvoices.via.columns', message: expect.stringContaining('a crosswalk file needs its two columns') }),
      ]),
    );
    const references = problemsOf(
      withBilling((document) => {
        document.mappings.viaService = {
          from: { entity: 'Customer', field: 'id' },
          to: { entity: 'Invoice', field: 'customerNumber' },
          via: { kind: 'service', entity: 'Invoice', from: 'customerRef', to: 'currency' },
          forward: { field: 'invoicesAgain' },
          inverse: { field: 'customerAgain' },
        };
      }),
    );
    expect(references).toEqual(
      expect.arrayContaining([
        { path: 'mappings.viaService.via.from', message: '"customerRef" is not a mapped field of Invoice' },
        expect.objectContaining({ path: 'mappings.viaService.via.to', message: expect.stringContaining('Invoice has no lookup by "currency"') }),
      ]),
    );
  });
});
