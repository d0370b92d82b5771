import config from '../../virtualization.config';
import { InvalidDefinitionError, validateConfig } from '../../src/config/validate';

function problemsOf(input: unknown): Array<{ path: string; message: string }> {
  try {
    validateConfig(input);
  } catch (error) {
    if (error instanceof InvalidDefinitionError) return error.problems;
    throw error;
  }
  return [];
}

describe('configuration validation', () => {
  it('accepts the built-in configuration', () => {
    expect(problemsOf(config)).toEqual([]);
  });

  it('reports shape problems with their path, all at once', () => {
    const broken = structuredClone(config) as unknown as { sources: Record<string, Record<string, unknown>> };
    broken.sources.crm!.limits = { timeoutMs: -5 };
    delete broken.sources.orders!.baseUrl;
    const problems = problemsOf(broken);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: 'sources.crm.limits.timeoutMs' }),
        expect.objectContaining({ path: 'sources.orders.baseUrl' }),
      ]),
    );
  });

  it('reports references to entities, fields and lookups that do not exist', () => {
    const broken = structuredClone(config);
    broken.mappings!.customerOrders!.to = { entity: 'Order', field: 'number' };
    broken.mappings!.customerTickets!.from = { entity: 'Client', field: 'email' };
    const problems = problemsOf(broken);
    expect(problems).toContainEqual({
      path: 'mappings.customerOrders.to.field',
      message: 'Order has no lookup by "number": declare lookups.number so that orders can be fetched',
    });
    expect(problems).toContainEqual(expect.objectContaining({ path: 'mappings.customerTickets.from.entity', message: expect.stringContaining('no source serves an entity named Client') }));
  });

  it('says what a message-worthy error looks like as text', () => {
    const error = new InvalidDefinitionError([{ path: 'sources.crm.baseUrl', message: 'Invalid input' }]);
    expect(error.message).toBe('The configuration is invalid (1 problem):\n  - sources.crm.baseUrl: Invalid input');
  });
});
