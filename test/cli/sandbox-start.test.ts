import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { DEMO_KEYS } from '../../virtualization.config';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process';

const exec = promisify(execFile);

/** Resolves with the gateway's stdout once it holds `pattern` (it prints its banner after the listening line). */
function printed(gateway: GatewayProcess, pattern: RegExp): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const match = pattern.exec(gateway.stdout());
      if (!match) return false;
      gateway.child.stdout.off('data', check);
      clearTimeout(timer);
      resolve(match);
      return true;
    };
    const timer = setTimeout(() => reject(new Error(`no ${pattern} in: ${gateway.stdout()}`)), 10_000);
    if (!check()) gateway.child.stdout.on('data', check);
  });
}

/**
 * `virtualize start --sandbox` on free ports: the gateway must find the sandboxes where they
 * listen, not on the usual ports the configuration names by default. With the demo keys' variables
 * unset, sandbox mode sets them to their documented values and prints them with a curl line that
 * runs as written.
 */
it('start --sandbox with free sandbox ports answers from those sandboxes, to the demo key its banner prints', async () => {
  const env = { CRM_URL: undefined, ORDERS_URL: undefined, SUPPORT_URL: undefined, VIRTUALIZE_AUDIT_LOG: 'off', [DEMO_KEYS.full.variable]: undefined, [DEMO_KEYS.limited.variable]: undefined };
  const gateway = await startGatewayProcess(['--sandbox', '--sandbox-ports', '0,0,0,0'], env);
  try {
    const curl = (await printed(gateway, /^Try it: (curl .*)$/m))[1]!;
    expect(gateway.stdout()).toContain(`Demo API key (VIRTUALIZE_DEMO_KEY, scopes customers:read orders:read tickets:read pii:read billing:read): ${DEMO_KEYS.full.key}\n`);
    expect(gateway.stdout()).toContain(`Limited demo key (VIRTUALIZE_DEMO_LIMITED_KEY, scopes customers:read orders:read): ${DEMO_KEYS.limited.key}\n`);
    expect(curl).toContain(`${gateway.origin}/graphql`);
    // The line as a user pastes it into a shell.
    const { stdout } = await exec('sh', ['-c', curl], { timeout: 10_000 });
    const pasted = JSON.parse(stdout) as { data?: { customers: { nodes: Array<{ name: string; email: string }> } }; errors?: unknown };
    expect(pasted.errors).toBeUndefined();
    expect(pasted.data?.customers.nodes).toHaveLength(2);

    const response = await fetch(`${gateway.origin}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': DEMO_KEYS.full.key },
      body: JSON.stringify({ query: '{ order(id: "500123") { number customer { segment } } }' }),
    });
    const body = (await response.json()) as { data?: { order: { number: string; customer: { segment: string } | null } | null }; errors?: unknown[] };
    expect(body.errors).toBeUndefined();
    expect(body.data?.order?.number).toBe('SO-500123');
    expect(body.data?.order?.customer?.segment).toBe('ENTERPRISE');

    // Sandbox mode asks for credentials too.
    const anonymous = await fetch(`${gateway.origin}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ __typename }' }) });
    expect(anonymous.status).toBe(401);
    // GraphiQL opens with the demo key in its headers.
    const page = await (await fetch(`${gateway.origin}/graphql`, { headers: { accept: 'text/html' } })).text();
    expect(page).toMatch(new RegExp(`x-api-key[\\\\"]*: [\\\\"]*${DEMO_KEYS.full.key}`));
  } finally {
    await gateway.stop();
  }
});
