import { printSchema } from 'graphql';
import { join } from 'node:path';
import config from '../../virtualization.config';
import { compileCatalog } from '../../src/catalog/compile-catalog';
import { validateConfig } from '../../src/config/validate';
import { CanonicalSchema } from '../../src/federation/canonical-schema';
import { buildGatewaySchema } from '../../src/federation/gateway-schema';

const root = join(__dirname, '../..');

describe('the unified schema built from virtualization.config.ts', () => {
  const schema = buildGatewaySchema(compileCatalog(validateConfig(config)), CanonicalSchema.fromDirectory(join(root, 'schema')));
  const sdl = printSchema(schema);

  it('exposes the canonical entry points and joins', () => {
    expect(sdl).toContain('customer(');
    expect(sdl).toContain('customersByIds(');
    expect(sdl).toContain('customers(');
    expect(schema.getQueryType()?.getFields().order).toBeDefined();
    expect(schema.getQueryType()?.getFields().ticket).toBeDefined();
    const customer = schema.getType('Customer');
    expect(customer && 'getFields' in customer ? Object.keys(customer.getFields()).sort() : []).toEqual(
      ['createdAt', 'email', 'id', 'name', 'openTicketCount', 'orderSummary', 'orders', 'owner', 'segment', 'tickets'].sort(),
    );
  });

  it('hides merge entry points and join-only key fields', () => {
    expect(Object.keys(schema.getQueryType()!.getFields()).filter((name) => name.startsWith('_'))).toEqual([]);
    expect(sdl).not.toContain('customerRef');
    expect(sdl).not.toContain('requesterEmail');
    expect(sdl).not.toContain('__');
  });
});
