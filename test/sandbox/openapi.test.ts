import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startCrm } from '../../sources/crm/server';
import { startOrders } from '../../sources/orders/server';
import type { SandboxHandle } from '../../sources/sandbox/server';
import { startSupport } from '../../sources/support/server';
import { fetchJson } from './http';

interface Operation {
  parameters?: Array<{ name: string; in: string }>;
  responses: Record<string, unknown>;
}
interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
}

const systems: Array<[string, () => Promise<SandboxHandle>]> = [
  ['crm', () => startCrm()],
  ['orders', () => startOrders()],
  ['support', () => startSupport()],
];

describe.each(systems)('%s openapi.json', (folder, start) => {
  const file = JSON.parse(readFileSync(join(__dirname, '../../sources', folder, 'openapi.json'), 'utf8')) as OpenApiDocument;
  let handle: SandboxHandle;
  beforeAll(async () => {
    handle = await start();
  });
  afterAll(() => handle.close());

  it('is served at GET /openapi.json exactly as kept in the folder', async () => {
    const served = await fetchJson<OpenApiDocument>(`${handle.url}/openapi.json`);
    expect(served.status).toBe(200);
    expect(served.body).toEqual(file);
    expect(file.openapi).toMatch(/^3\.0\./);
  });

  it('documents every route the server has, and no route it lacks', () => {
    const documented = Object.entries(file.paths).flatMap(([path, operations]) =>
      Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect([...documented].sort()).toEqual([...handle.routes].sort());
  });

  it('declares each path parameter of each route', () => {
    for (const template of handle.routes) {
      const [method, path] = template.split(' ') as [string, string];
      const operation = file.paths[path]?.[method.toLowerCase()];
      const declared = (operation?.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name);
      const inTemplate = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      expect({ template, params: declared }).toEqual({ template, params: inTemplate });
    }
  });
});
