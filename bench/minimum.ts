/**
 * What no gateway can beat for the measured page, computed from the sandbox data itself: the
 * fewest upstream calls that can answer it and the latency floor those calls impose.
 */
import type { VirtualizationConfig } from '../src/config/definition';
import { normalizeEmail, sandboxDataset } from '../sources/sandbox';

export interface Minimum {
  /** Customers on the page (the first `pageSize` in the CRM's paging order). */
  customers: number;
  /** Distinct order-system account refs linked to those customers through the crosswalk. */
  orderRefs: number;
  /** Distinct normalized emails of those customers. */
  emails: number;
  calls: { crm: number; orders: number; support: number; total: number };
  /** One call's latency times the join depth: what a gateway with unlimited upstream concurrency could reach. */
  floorMs: number;
  joinDepth: number;
  /** The floor within the configured per-source concurrency limits (requests beyond them wait for a connection). */
  limitedFloorMs: number;
  limits: { ordersMaxConcurrency: number; supportMaxConcurrency: number };
  explanation: string[];
}

const CRM_MAX_PAGE = 200;
const ORDERS_REFS_PER_CALL = 50;

/**
 * The floor when each source takes at most so many calls at once: the CRM page, then as many
 * waves of 25 ms as the busier of the two joined sources needs.
 */
export function floorWithinLimits(
  calls: { crm: number; orders: number; support: number },
  latencyMs: number,
  limits: { ordersMaxConcurrency: number; supportMaxConcurrency: number },
): number {
  const waves = Math.max(Math.ceil(calls.orders / limits.ordersMaxConcurrency), Math.ceil(calls.support / limits.supportMaxConcurrency));
  return latencyMs * (calls.crm + waves);
}

export function minimumFor(pageSize: number, latencyMs: number, config: VirtualizationConfig): Minimum {
  const data = sandboxDataset();
  const page = data.crm.contacts.slice(0, pageSize);
  const ids = new Set(page.map((c) => c.Id));
  const refs = new Set(data.crosswalk.filter((pair) => ids.has(pair.crmCustomerId)).map((pair) => pair.orderCustomerRef));
  const emails = new Set(page.map((c) => normalizeEmail(c.Email)));

  const crm = Math.ceil(pageSize / CRM_MAX_PAGE);
  const orders = Math.ceil(refs.size / ORDERS_REFS_PER_CALL);
  // The support desk has no batch endpoint: one call per email, whether or not it has tickets
  // (nobody can know which emails the desk knows without asking).
  const support = emails.size;
  const joinDepth = 2;
  const ordersMaxConcurrency = config.sources.orders?.limits.maxConcurrency ?? Infinity;
  const supportMaxConcurrency = config.sources.support?.limits.maxConcurrency ?? Infinity;
  const orderWaves = Math.ceil(orders / ordersMaxConcurrency);
  const supportWaves = Math.ceil(support / supportMaxConcurrency);
  const limitedFloorMs = floorWithinLimits({ crm, orders, support }, latencyMs, { ordersMaxConcurrency, supportMaxConcurrency });

  return {
    customers: page.length,
    orderRefs: refs.size,
    emails: emails.size,
    calls: { crm, orders, support, total: crm + orders + support },
    floorMs: joinDepth * latencyMs,
    joinDepth,
    limitedFloorMs,
    limits: { ordersMaxConcurrency, supportMaxConcurrency },
    explanation: [
      `minimum upstream calls per answer: ${crm + orders + support} = ${crm} CRM page + ${orders} order-system batch${orders === 1 ? '' : 'es'} ` +
        `(${refs.size} distinct account refs, ${ORDERS_REFS_PER_CALL} per call) + ${support} support-desk lookups (${emails.size} distinct emails, no batch endpoint)`,
      `latency floor: ${joinDepth * latencyMs} ms = join depth ${joinDepth} x ${latencyMs} ms (the CRM page, then orders and tickets in parallel), ` +
        'reachable only with unlimited upstream concurrency',
      `floor within virtualize's configured limits: ${limitedFloorMs} ms (support maxConcurrency ${supportMaxConcurrency}: ` +
        `${support} lookups in ${supportWaves} waves after the CRM page; orders maxConcurrency ${ordersMaxConcurrency}: ${orders} call${orders === 1 ? '' : 's'} in ${orderWaves} wave${orderWaves === 1 ? '' : 's'})`,
    ],
  };
}
