/**
 * The three sandbox source systems, started together or one by one, and the datasets they serve.
 *
 * Tests compute their expectations from `sandboxDataset(seed)`: the very objects the servers
 * answer from, generated once per seed and process.
 */
import { crmDataset, type CrmDataset } from '../crm/data';
import { startCrm } from '../crm/server';
import { ordersDataset, type CrosswalkPair, type OrdersDataset } from '../orders/data';
import { startOrders } from '../orders/server';
import type { WebhookTarget } from './webhook';
import { supportDataset, type SupportDataset } from '../support/data';
import { startSupport } from '../support/server';
import type { SandboxAuth } from './auth';
import { DEFAULT_SEED } from './random';
import type { SandboxHandle } from './server';
import type { TimerClock } from '../../src/time/clock';

export interface SandboxesOptions {
  /** Delay added to every request of every system, in milliseconds; default 0. */
  latencyMs?: number;
  /** Ports per system; 0 or absent picks a free one. */
  ports?: { crm?: number; orders?: number; support?: number };
  /** Interface to listen on; default `127.0.0.1`. */
  host?: string;
  /** Dataset seed; default 42. */
  seed?: number;
  /** Credentials each system demands; default: the CRM an API key, the support desk OAuth client credentials (SANDBOX_CREDENTIALS). */
  auth?: { crm?: SandboxAuth; orders?: SandboxAuth; support?: SandboxAuth };
  /** Where systems with write endpoints send their signed change notifications (webhook.ts). */
  webhooks?: { crm?: WebhookTarget; orders?: WebhookTarget; support?: WebhookTarget };
  /** What every system's delays wait on and token lifetimes are read from; default the process's clock. */
  clock?: TimerClock;
}

export interface Sandboxes {
  readonly crm: SandboxHandle;
  readonly orders: SandboxHandle;
  readonly support: SandboxHandle;
  /** Closes all three. */
  close(): Promise<void>;
}

export interface SandboxDataset {
  readonly seed: number;
  readonly crm: CrmDataset;
  readonly orders: OrdersDataset;
  readonly support: SupportDataset;
  /** CRM customer id <-> order account ref; the same pairs as `crosswalk.csv` for the default seed. */
  readonly crosswalk: readonly CrosswalkPair[];
}

/** Starts the three systems; if one fails to start, the others are closed before the error is rethrown. */
/**
 * The sandboxes' base URLs under the names the built-in configuration's environment references
 * read (CRM_URL, ORDERS_URL, SUPPORT_URL): what points a gateway at sandboxes on any ports.
 */
export function sandboxEnv(sandboxes: Pick<Sandboxes, 'crm' | 'orders' | 'support'>): NodeJS.ProcessEnv {
  return {
    CRM_URL: `${sandboxes.crm.url}/services/data/v58.0`,
    ORDERS_URL: `${sandboxes.orders.url}/api`,
    SUPPORT_URL: `${sandboxes.support.url}/api/v2`,
  };
}

export async function startSandboxes(options: SandboxesOptions = {}): Promise<Sandboxes> {
  const { latencyMs, ports = {}, host, seed, auth = {}, webhooks = {}, clock } = options;
  const shared = { latencyMs, host, seed, clock };
  const started = await Promise.allSettled([
    startCrm({ ...shared, port: ports.crm, auth: auth.crm, webhook: webhooks.crm }),
    startOrders({ ...shared, port: ports.orders, auth: auth.orders, webhook: webhooks.orders }),
    startSupport({ ...shared, port: ports.support, auth: auth.support, webhook: webhooks.support }),
  ]);
  const handles = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const failure = started.find((result) => result.status === 'rejected');
  if (failure) {
    await Promise.allSettled(handles.map((handle) => handle.close()));
    throw failure.reason;
  }
  const [crm, orders, support] = handles as [SandboxHandle, SandboxHandle, SandboxHandle];
  return {
    crm,
    orders,
    support,
    close: async () => {
      await Promise.all([crm.close(), orders.close(), support.close()]);
    },
  };
}

export function sandboxDataset(seed: number = DEFAULT_SEED): SandboxDataset {
  const orders = ordersDataset(seed);
  return { seed, crm: crmDataset(seed), orders, support: supportDataset(seed), crosswalk: orders.crosswalk };
}

export { startCrm, type CrmSandboxOptions } from '../crm/server';
export { startOrders, type OrdersSandboxOptions } from '../orders/server';
export { startSupport, type SupportSandboxOptions } from '../support/server';
export { crosswalkPairs, crosswalkCsv, writeCrosswalkCsv } from '../orders/crosswalk';
export { normalizeEmail } from './email';
export { notify, signedDelivery, type ChangeNotice, type WebhookTarget } from './webhook';
export { UNMATCHED_ROUTE, type SandboxStats } from './stats';
export { SANDBOX_CREDENTIALS, TOKEN_PATH, type SandboxAuth } from './auth';
export { DEFAULT_KNOBS, type KnobChange, type Knobs, type Rate } from './faults';
export type { SandboxHandle, SandboxOptions } from './server';
export type { CrmContact, CrmDataset, CrmSegment } from '../crm/data';
export type { Currency, Order, OrderAccount, OrderLine, OrderStatus, OrdersDataset, CrosswalkPair } from '../orders/data';
export type { Requester, SupportDataset, Ticket, TicketPriority, TicketStatus } from '../support/data';
