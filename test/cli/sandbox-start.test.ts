import { startGatewayProcess } from '../support/gateway-process';

/**
 * `virtualize start --sandbox` on free ports: the gateway must find the sandboxes where they
 * listen, not on the usual ports the configuration names by default.
 */
it('start --sandbox with free sandbox ports answers from those sandboxes', async () => {
  const env = { CRM_URL: undefined, ORDERS_URL: undefined, SUPPORT_URL: undefined, VIRTUALIZE_AUDIT_LOG: 'off' };
  const gateway = await startGatewayProcess(['--sandbox', '--sandbox-ports', '0,0,0,0'], env);
  try {
    const response = await fetch(`${gateway.origin}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ order(id: "500123") { number customer { segment } } }' }),
    });
    const body = (await response.json()) as { data?: { order: { number: string; customer: { segment: string } | null } | null }; errors?: unknown[] };
    expect(body.errors).toBeUndefined();
    expect(body.data?.order?.number).toBe('SO-500123');
    expect(body.data?.order?.customer?.segment).toBe('ENTERPRISE');
  } finally {
    await gateway.stop();
  }
});
