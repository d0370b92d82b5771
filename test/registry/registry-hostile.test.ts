/**
 * The registry against a caller who holds an admin credential and wants more than it gives: the
 * values of the gateway's environment (read back through problems, or sent to a host of their
 * choosing in a sample call), and a registry stalled behind a source that never answers. Every
 * answer, log line and audit entry of the test is searched for the secret values; calls are
 * counted at the fake sources; time moves on a manual clock.
 */
import { withholdingValues } from '../../src/registry/withheld-values';
import { billingDocument } from '../support/billing';
import { startFakeSource, type FakeSource } from '../support/fake-source';
import { ManualClock } from '../support/manual-clock';
import { ADMIN_TOKEN, CHANGE, startRegistryHarness, VIEWER_TOKEN, type RegistryHarness } from '../support/registry-harness';

const PROBE_KEY = 'probe-key-value-7f3a9c21';
const PROBE_PATH = 's3cr3t-path-0xdeadbeef';
const DRY_RUN_MS = 2_000;

let probe: FakeSource;
let hanging: FakeSource;
let clock: ManualClock;
let h: RegistryHarness;
/** Every answer the admin API gave in this test, to search for secrets. */
const answers: unknown[] = [];
let hangingCalled: () => void;
const hangingReached = new Promise<void>((resolve) => (hangingCalled = resolve));

beforeAll(async () => {
  // Answers 404 quoting back what it was sent (its path, its headers), as a hostile host would.
  probe = await startFakeSource((request) => ({ status: 404, body: JSON.stringify({ error: `no ${request.path}`, headers: request.headers }) }));
  hanging = await startFakeSource(() => {
    hangingCalled();
    return { hang: true };
  });
  clock = new ManualClock();
  h = await startRegistryHarness({
    allowPrivate: [`127.0.0.1:${probe.port}`, `127.0.0.1:${hanging.port}`],
    allowEnv: ['PROBE_*', 'HANGING_*'],
    env: { PROBE_URL: `${probe.origin}/${PROBE_PATH}`, PROBE_KEY, HANGING_URL: hanging.origin },
    registry: { dryRun: { timeoutMs: DRY_RUN_MS } },
    sourceClock: clock,
  });
});

afterAll(async () => {
  await h?.close();
  await probe?.close();
  await hanging?.close();
});

async function admin<T>(query: string, variables: Record<string, unknown>, token = ADMIN_TOKEN) {
  const answer = await h.admin<T>(query, variables, token);
  answers.push(answer);
  return answer;
}

interface Report {
  ok: boolean;
  problems: Array<{ path: string; message: string; stage: string; found: string | null }>;
  samples: Array<{ source: string }>;
}

const VALIDATE = `mutation($d: JSON!, $s: Boolean) { validateDefinition(definition: $d, sample: $s) { ok problems { path message stage found } samples { source } } }`;

/** One source of one entity, in the definition format. */
function widgets(baseUrl: unknown, auth: unknown = { type: 'none' }, limits: Record<string, unknown> = {}) {
  return {
    sources: {
      widgets: {
        baseUrl,
        auth,
        limits: { retry: { maxAttempts: 1 }, ...limits },
        entities: {
          Widget: { key: 'id', fields: { id: 'id' }, lookups: { id: { path: '/widgets/{value}', unique: true } }, list: { path: '/widgets', resultPath: 'items', paging: { type: 'page', pageParam: 'page', sizeParam: 'size', pageSize: 10 } }, query: { one: 'widget', many: false, list: false } },
        },
      },
    },
  };
}

describe('environment references', () => {
  it("never echo a value: the gateway's own admin token is refused by name, before it is read", async () => {
    const answer = await admin<{ validateDefinition: Report }>(VALIDATE, { d: widgets({ env: 'TEST_ADMIN_TOKEN' }), s: false }, VIEWER_TOKEN);
    expect(answer.data!.validateDefinition.problems).toEqual([
      { stage: 'rules', path: 'sources.widgets.baseUrl.env', message: 'TEST_ADMIN_TOKEN holds a credential of the gateway itself, which no registered definition may name', found: 'TEST_ADMIN_TOKEN' },
    ]);
  });

  it('refuse a variable registry.env.allowed does not list, naming it and the list', async () => {
    const answer = await admin<{ validateDefinition: Report }>(VALIDATE, { d: widgets(`${probe.origin}/v1`, { type: 'header', header: 'x-key', value: { env: 'HOME' } }), s: false }, VIEWER_TOKEN);
    expect(answer.data!.validateDefinition.problems).toEqual([
      {
        stage: 'rules',
        path: 'sources.widgets.auth.value.env',
        message: "HOME is not in registry.env.allowed (BILLING_*, PROBE_*, HANGING_*): an operator must allow it in the gateway's configuration, e.g. env: { allowed: ['HOME_*'] }",
        found: 'HOME',
      },
    ]);
  });

  it('name the variable, never its value, when an allowed value is refused by the egress policy', async () => {
    const answer = await admin<{ validateDefinition: Report }>(VALIDATE, { d: widgets({ env: 'PROBE_KEY' }), s: false }, VIEWER_TOKEN);
    expect(answer.data!.validateDefinition.problems).toEqual([
      {
        stage: 'egress',
        path: 'sources.widgets.baseUrl',
        message: expect.stringMatching(/^the value of PROBE_KEY is not a base URL this gateway may call .*the value is not shown/),
        found: null,
      },
    ]);
  });

  it('may be sampled (one real call with them) only with registry:write; a reader may check without calling', async () => {
    const definition = widgets({ env: 'PROBE_URL' }, { type: 'header', header: 'x-probe-key', value: { env: 'PROBE_KEY' } });
    const refused = await admin<{ validateDefinition: Report }>(VALIDATE, { d: definition, s: true }, VIEWER_TOKEN);
    expect(refused.errors?.[0]).toMatchObject({ message: expect.stringContaining('lacks the scope registry:write, which validateDefinition with sample'), extensions: { code: 'FORBIDDEN' } });
    expect(probe.count()).toBe(0);
    // The default is to sample: a reader must say sample: false.
    const unsaid = await admin<{ validateDefinition: Report }>(`mutation($d: JSON!) { validateDefinition(definition: $d) { ok } }`, { d: definition }, VIEWER_TOKEN);
    expect(unsaid.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const unsampled = await admin<{ validateDefinition: Report }>(VALIDATE, { d: definition, s: false }, VIEWER_TOKEN);
    expect(unsampled.data!.validateDefinition).toMatchObject({ ok: true, samples: [] });
    expect(probe.count()).toBe(0);

    // A writer's sample reaches the host, which quotes back the key and the path it was given; the report quotes neither.
    const sampled = await admin<{ validateDefinition: Report }>(VALIDATE, { d: definition, s: true });
    expect(probe.count()).toBe(1);
    expect(probe.requests[0]!.headers['x-probe-key']).toBe(PROBE_KEY);
    expect(sampled.data!.validateDefinition.ok).toBe(false);
    expect(sampled.data!.validateDefinition.problems).toEqual([expect.objectContaining({ stage: 'sample', path: 'sources.widgets.entities.Widget.list' })]);
  });

  it('records every dry run in the audit trail: who, what, whether sources were called', async () => {
    const audit = await admin<{ audit: Array<{ revision: number | null; actor: string; action: string; summary: string }> }>('{ audit(limit: 10) { revision actor action summary } }', {});
    expect(audit.data!.audit.filter((entry) => entry.action === 'validateDefinition').map((entry) => [entry.revision, entry.actor, entry.summary])).toEqual([
      [null, 'admin', 'validateDefinition source widgets, 1 sample calls to widgets: 1 problem'],
      [null, 'viewer', 'validateDefinition source widgets, not sampled: ok'],
      [null, 'viewer', 'validateDefinition source widgets, not sampled: 1 problem'],
      [null, 'viewer', 'validateDefinition source widgets, not sampled: 1 problem'],
      [null, 'viewer', 'validateDefinition source widgets, not sampled: 1 problem'],
    ]);
  });

  it('leave no secret value in any answer, log line or audit entry of this test', async () => {
    const secrets = [PROBE_KEY, PROBE_PATH, ADMIN_TOKEN, VIEWER_TOKEN, process.env.HOME ?? 'no-home-set'];
    const audit = await h.registry.auditTrail(1_000);
    const everything = JSON.stringify([answers, h.logs, h.lines.app.entries(), h.lines.audit.entries(), audit]);
    for (const secret of secrets) expect(everything.includes(secret) ? secret : 'absent').toBe('absent');
  });
});

describe('the last line of defence', () => {
  it('replaces, in every string of a report, the value of every variable the entries name (longest first), and nothing else', () => {
    const withhold = withholdingValues({ a: { baseUrl: { env: 'A_URL' }, auth: { value: { env: 'A_KEY', default: 'x' } } }, b: [{ env: 'SHORT' }] }, { A_URL: 'https://a.example/k-123456', A_KEY: 'k-123456', SHORT: '1', OTHER: 'found' });
    expect(withhold({ ok: false, problems: [{ message: 'GET https://a.example/k-123456/x sent k-123456; found 1 of 3', durationMs: 12 }], note: null })).toEqual({
      ok: false,
      problems: [{ message: 'GET <value of A_URL>/x sent <value of A_KEY>; found 1 of 3', durationMs: 12 }],
      note: null,
    });
  });
});

describe('a registry that never stalls', () => {
  it('commits a second registration while the dry run of another waits on a source that never answers, and ends that dry run at registry.dryRun.timeoutMs', async () => {
    let settled = false;
    const stuck = admin<{ registerSource: { ok: boolean; report: Report } }>(`mutation($d: JSON!) { registerSource(definition: $d, sample: true) { ${CHANGE} } }`, {
      d: widgets({ env: 'HANGING_URL' }, { type: 'none' }, { timeoutMs: 60_000 }),
    }).finally(() => (settled = true));
    await hangingReached;

    const beside = await admin<{ registerSource: { ok: boolean; schemaVersion: number } }>(`mutation($d: JSON!) { registerSource(definition: $d, sample: false) { ok schemaVersion } }`, { d: billingDocument() });
    expect(beside.data!.registerSource).toEqual({ ok: true, schemaVersion: 1 });
    const { data } = await h.graphql<{ invoices: { nodes: unknown[] } }>('{ invoices(first: 1) { nodes { id } } }');
    expect(data!.invoices.nodes).toHaveLength(1);
    expect(settled).toBe(false);

    clock.advance(DRY_RUN_MS);
    const answer = await stuck;
    expect(answer.data!.registerSource).toMatchObject({
      ok: false,
      report: {
        problems: [{ stage: 'sample', path: 'sources.widgets', message: expect.stringContaining(`did not finish within registry.dryRun.timeoutMs (${DRY_RUN_MS} ms)`), found: null }],
      },
    });
    expect(hanging.count()).toBe(1);
    expect((await fetch(`${h.origin}/healthz`)).status).toBe(200);
    expect((await h.registry.status()).schemaVersion).toBe(1);
  });
});
