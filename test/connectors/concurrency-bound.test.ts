import config from '../../virtualization.config';
import { startHarness } from '../support/harness';

it('never has more calls in flight at the support desk (no batch endpoint) than its declared limit', async () => {
  const limit = config.sources.support!.limits!.maxConcurrency!;
  const h = await startHarness({ latencyMs: 15 });
  try {
    const res = await h.query<{ customers: { nodes: Array<{ tickets: unknown[] }> } }>('{ customers(first: 60) { nodes { tickets { id } } } }');
    expect(res.errors).toBeUndefined();
    expect(res.data?.customers.nodes).toHaveLength(60);
    const support = h.sandboxes.support.stats();
    expect(support.byRoute['GET /api/v2/tickets']).toBeGreaterThan(limit);
    expect(support.peakInFlight).toBeLessThanOrEqual(limit);
    // ...and the calls do overlap: the bound is a pool, not a queue of one.
    expect(support.peakInFlight).toBeGreaterThan(1);
  } finally {
    await h.close();
  }
});
