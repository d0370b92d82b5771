import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { crmDataset } from '../../sources/crm/data';
import { CROSSWALK_HEADER, crosswalkCsv, crosswalkPairs, writeCrosswalkCsv } from '../../sources/orders/crosswalk';
import { ordersDataset } from '../../sources/orders/data';

/** The committed crosswalk for the default seed (tsc does not copy it to dist; it is read from the source tree). */
const CROSSWALK_CSV_PATH = join(__dirname, '../../sources/orders/crosswalk.csv');

// After changing the generators, regenerate the committed file with:
//   UPDATE_CROSSWALK=1 npx jest test/sandbox/crosswalk
if (process.env.UPDATE_CROSSWALK === '1') writeCrosswalkCsv(CROSSWALK_CSV_PATH);

describe('crosswalk.csv', () => {
  it('is exactly what the default seed generates (regenerate with UPDATE_CROSSWALK=1)', () => {
    expect(readFileSync(CROSSWALK_CSV_PATH, 'utf8')).toBe(crosswalkCsv());
  });

  it('has the header and one row per pair', () => {
    const lines = readFileSync(CROSSWALK_CSV_PATH, 'utf8').trimEnd().split('\n');
    expect(lines[0]).toBe(CROSSWALK_HEADER);
    expect(lines.slice(1)).toEqual(crosswalkPairs().map((p) => `${p.crmCustomerId},${p.orderCustomerRef}`));
  });

  it('pairs existing CRM customers with existing accounts, one-to-many, each account once', () => {
    const crm = crmDataset();
    const orders = ordersDataset();
    const pairs = crosswalkPairs();
    for (const pair of pairs) {
      expect(crm.byId.has(pair.crmCustomerId)).toBe(true);
      expect(orders.accountByRef.has(pair.orderCustomerRef)).toBe(true);
    }
    expect(new Set(pairs.map((p) => p.orderCustomerRef)).size).toBe(pairs.length);
    expect(new Set(pairs.map((p) => p.crmCustomerId)).size).toBeLessThan(pairs.length);
  });
});
