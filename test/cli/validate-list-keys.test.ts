/**
 * `virtualize validate` refuses the joins on list-valued keys that no answer could get right, with
 * the path and what to do, and exits 1: one found in the definitions, one found only once the
 * canonical schema is read (the generation the command builds).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import baseConfig from '../../virtualization.config';
import type { VirtualizationConfigInput } from '../../src/config/definition';
import { PROJECT_ROOT } from '../support/harness';
import { masterDataSource } from '../support/master-data';

const BIN = join(PROJECT_ROOT, 'bin/virtualize.js');

function validate(config: VirtualizationConfigInput): { status: number | null; stdout: string; stderr: string } {
  const file = join(mkdtempSync(join(tmpdir(), 'virtualize-list-keys-')), 'config.json');
  // schemaDir resolves against the config file: point it at the project's canonical schema.
  writeFileSync(file, JSON.stringify({ ...config, schemaDir: join(PROJECT_ROOT, 'schema') }));
  const result = spawnSync(process.execPath, [BIN, 'validate', '--config', file], { cwd: PROJECT_ROOT, encoding: 'utf8', timeout: 20_000, env: { ...process.env, DATABASE_URL: '' } });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

it('refuses an inverse naming one golden record through a list of accounts whose lookup is not unique', () => {
  const config = structuredClone(baseConfig) as VirtualizationConfigInput;
  const mdm = masterDataSource('http://127.0.0.1:1/mdm');
  (mdm.entities.MasterRecord!.lookups.shop as { unique: boolean }).unique = false;
  config.sources.mdm = mdm;
  config.mappings!.masterOrders = { from: { entity: 'MasterRecord', field: 'shop' }, to: { entity: 'Order', field: 'customerRef' }, via: { kind: 'fieldKey' }, forward: { field: 'orders' }, inverse: { field: 'master' } };
  const result = validate(config);
  expect(result.stdout).toBe('');
  expect(result.stderr).toContain('The configuration is invalid (1 problem)');
  expect(result.stderr).toContain('mappings.masterOrders.inverse: MasterRecord.shop holds a list and the lookup of MasterRecord by shop is not unique');
  expect(result.stderr).toContain('declare lookups.shop.unique: true when each value is in at most one MasterRecord, or drop the inverse');
  expect(result.status).toBe(1);
});

it('refuses an inverse that schema/ declares as one record over a list-valued key, found when the schema is built', () => {
  const config = structuredClone(baseConfig) as VirtualizationConfigInput;
  const order = config.sources.orders!.entities.Order!;
  order.fields.customerRefs = { from: 'customer_refs', type: '[ID!]' };
  order.lookups.customerRefs = { path: '/orders', query: { customer_refs: '{values}' }, resultPath: 'data', unique: false, batch: { maxSize: 50 } };
  config.mappings!.customerOrders!.to = { entity: 'Order', field: 'customerRefs' };
  const result = validate(config);
  expect(result.stderr).toContain('mappings.customerOrders.inverse.field: Order.customerRefs holds a list');
  expect(result.stderr).toContain('declare it [Customer!] in schema/, or drop the inverse');
  expect(result.status).toBe(1);
});
