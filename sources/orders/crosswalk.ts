/**
 * The crosswalk file between the CRM and the order system: which CRM customer owns which order
 * account. In a real deployment it is an export from a master-data tool; here it is generated
 * from the seed and committed as `crosswalk.csv`, so the gateway loads it like any mapping file.
 */
import { writeFileSync } from 'node:fs';
import { ordersDataset, type CrosswalkPair } from './data';

export const CROSSWALK_HEADER = 'crm_customer_id,order_customer_ref';

/** The pairs for a seed (default 42), sorted by CRM id then ref; a customer may have several refs. */
export function crosswalkPairs(seed?: number): readonly CrosswalkPair[] {
  return ordersDataset(seed).crosswalk;
}

/** The file's exact text: header, one row per pair, `\n` line endings, trailing newline. */
export function crosswalkCsv(seed?: number): string {
  const rows = crosswalkPairs(seed).map((p) => `${p.crmCustomerId},${p.orderCustomerRef}`);
  return `${[CROSSWALK_HEADER, ...rows].join('\n')}\n`;
}

/** Writes the crosswalk for a seed to `path` (regenerate the committed file after changing the generators). */
export function writeCrosswalkCsv(path: string, seed?: number): void {
  writeFileSync(path, crosswalkCsv(seed), 'utf8');
}
