/**
 * The crosswalk between the CRM and billing (CRM customer id <-> billing customer number). It is
 * not in `virtualization.config.ts`: an architect imports it into the registry with
 * `virtualize mappings import sources/billing/crosswalk.csv --mapping customerInvoices`.
 */
import { writeFileSync } from 'node:fs';
import { billingDataset } from './data';

export const BILLING_CROSSWALK_HEADER = 'crm_customer_id,billing_customer_number';

/** The file's exact text for a seed (default 42): header, one row per pair, trailing newline. */
export function billingCrosswalkCsv(seed?: number): string {
  const rows = billingDataset(seed).crosswalk.map((p) => `${p.crmCustomerId},${p.billingCustomerNumber}`);
  return `${[BILLING_CROSSWALK_HEADER, ...rows].join('\n')}\n`;
}

export function writeBillingCrosswalkCsv(path: string, seed?: number): void {
  writeFileSync(path, billingCrosswalkCsv(seed), 'utf8');
}
