import { startHarness, type Harness } from '../support/harness';

describe('gateway server', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.close());

  it('answers liveness and readiness with each source state, and no secrets or URLs', async () => {
    const live = await fetch(`${h.server.url}/healthz`);
    expect(live.status).toBe(200);
    await h.query('{ customer(id: "unknown") { id } }');
    const ready = await fetch(`${h.server.url}/readyz`);
    expect(ready.status).toBe(200);
    const body = (await ready.json()) as { status: string; sources: Record<string, { state: string }> };
    expect(body.status).toBe('ready');
    expect(Object.keys(body.sources).sort()).toEqual(['crm', 'orders', 'support']);
    expect(body.sources.crm!.state).toBe('up');
    expect(body.sources.orders!.state).toBe('unknown');
    expect(JSON.stringify(body)).not.toContain('127.0.0.1');
  });

  it('serves GraphiQL with every asset inline and the customer 360 as the default query', async () => {
    const page = await fetch(h.url, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('YogaGraphiQL');
    expect(html).not.toMatch(/<script[^>]+src=["']https?:/);
    expect(html).not.toMatch(/<link[^>]+href=["']https?:/);
    expect(html).toContain('Customer360');
  });

  it('gives the cause of a source failure with its code and source, and keeps the other sources\' data', async () => {
    const support = h.gateway.connectors.get('support')!;
    const original = h.sandboxes.support.port;
    // Last test of this suite: the support sandbox stays down.
    await h.sandboxes.support.close();
    {
      const res = await h.query<{ customers: { nodes: Array<{ name: string; orders: unknown[]; tickets: unknown[] | null }> } }>(
        '{ customers(first: 2) { nodes { name orders { id } tickets { id } } } }',
      );
      expect(res.data?.customers.nodes).toHaveLength(2);
      expect(res.data?.customers.nodes.every((c) => typeof c.name === 'string' && Array.isArray(c.orders))).toBe(true);
      expect(res.errors?.length).toBeGreaterThan(0);
      expect(res.errors![0]!.extensions).toMatchObject({ code: 'SOURCE_UNAVAILABLE', source: 'support' });
      expect(res.errors![0]!.message).not.toContain(String(original));
      expect(support.http.health().state).toBe('failing');
    }
  });
});

describe('graceful shutdown', () => {
  it('lets a request in flight finish, then refuses new connections', async () => {
    const h = await startHarness({ latencyMs: 200 });
    try {
      // In flight once the CRM has it (it answers after its 200 ms latency).
      const arrived = h.sandboxes.crm.nextRequest();
      const inFlight = h.query<{ customers: { nodes: unknown[] } }>('{ customers(first: 3) { nodes { id orders { id } } } }');
      await arrived;
      const closing = h.server.close();
      const res = await inFlight;
      expect(res.status).toBe(200);
      expect(res.data?.customers.nodes).toHaveLength(3);
      await closing;
      await expect(fetch(`${h.server.url}/healthz`)).rejects.toThrow();
    } finally {
      await h.close();
    }
  });
});
