/**
 * A dry run names the codes an enum transform does not map when the sample holds them: the
 * billing definition without `paid` (as a definition written before the source sent it) is
 * warned about, with the code named, in the admin API's report and in the CLI's, instead of
 * passing quietly and having every paid invoice left out of answers later.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { billingDataset } from '../../sources/billing/data';
import { billingDocument } from '../support/billing';
import { PROJECT_ROOT } from '../support/harness';
import { ADMIN_TOKEN, startRegistryHarness, type RegistryHarness } from '../support/registry-harness';

let h: RegistryHarness;
beforeAll(async () => {
  h = await startRegistryHarness();
});
afterAll(() => h?.close());

interface Report {
  ok: boolean;
  problems: Array<{ path: string; message: string }>;
  warnings: Array<{ path: string; message: string; found: string | null }>;
  samples: Array<{ endpoint: string; records: number; rejected: number }>;
}

const STATUS = 'sources.billing.entities.Invoice.fields.status';

/** The billing definition whose status enum lacks `paid` (the first sampled invoices are all paid). */
function withoutPaid() {
  const document = billingDocument();
  const fields = document.sources.billing!.entities.Invoice!.fields as Record<string, unknown>;
  fields.status = { from: 'properties.status', transform: { enum: { open: 'OPEN', overdue: 'OVERDUE', void: 'VOID' } }, description: 'Where the invoice stands.' };
  return document;
}

it('warns at the field, naming the codes the sample held that the enum does not map', async () => {
  const answer = await h.admin<{ validateDefinition: Report }>(
    `mutation($definition: JSON!) { validateDefinition(definition: $definition, sample: true) { ok problems { path message } warnings { path message found } samples { endpoint records rejected } } }`,
    { definition: withoutPaid() },
  );
  expect(answer.errors).toBeUndefined();
  const report = answer.data!.validateDefinition;
  // The list pages on until it has its 3 records: every paid invoice before them is left out.
  const invoices = billingDataset().invoices;
  const third = invoices.map((invoice, i) => ({ i, paid: invoice.properties.status === 'paid' })).filter((x) => !x.paid)[2]!.i;
  const paidBefore = invoices.slice(0, third).filter((invoice) => invoice.properties.status === 'paid').length;
  expect(paidBefore).toBeGreaterThan(0);
  expect(report.samples[0]).toEqual({ endpoint: 'list', records: 3, rejected: paidBefore });
  const warning = report.warnings.find((w) => w.path === STATUS);
  expect(warning).toEqual({
    path: STATUS,
    found: '"paid"',
    message: expect.stringMatching(
      /^the source sent a code its enum transform does not map, in \d+ sampled records: "paid"; records with it are left out of answers \(and counted in extensions\.rejected\): add it to transform\.enum$/,
    ),
  });
  // Counted over every sample call: the list's, and the lookups' of the listed values' records.
  expect(Number(/in (\d+) sampled/.exec(warning!.message)![1])).toBeGreaterThanOrEqual(paidBefore);
  // A warning, not a refusal: the rest of the definition is sound.
  expect(report.problems.filter((p) => p.path.startsWith(STATUS))).toEqual([]);
  expect(report.ok).toBe(true);
});

it('says so in the CLI report too', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'virtualize-enum-'));
  try {
    const file = join(dir, 'billing.json');
    writeFileSync(file, JSON.stringify(withoutPaid()));
    const result = await new Promise<{ stdout: string; stderr: string }>((resolve) =>
      execFile(
        process.execPath,
        [join(PROJECT_ROOT, 'bin/virtualize.js'), 'sources', 'validate', file],
        { cwd: PROJECT_ROOT, timeout: 30_000, env: { ...process.env, VIRTUALIZE_ADMIN_URL: h.origin, VIRTUALIZE_ADMIN_TOKEN: ADMIN_TOKEN } },
        (_error, stdout, stderr) => resolve({ stdout, stderr }),
      ),
    );
    expect(result.stdout).toContain(STATUS);
    expect(result.stdout).toMatch(/its enum transform does not map, in \d+ sampled records: "paid"; records with it are left out of answers/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
