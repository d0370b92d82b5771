/**
 * A master-data service of the kind companies run in front of their golden records: for a batch
 * of CRM (HubSpot) contact ids, the linked Shopify customer ids and Zendesk user ids (none, one or
 * several: a person with two shop accounts, or two desk identities).
 *
 * - `GET /mdm/v1/links?crm_ids=1,2,3` (at most 100): `{ links: [{ crm_id, shopify_customer_ids, zendesk_user_ids }] }`,
 *   unknown ids left out; the key in `x-api-key` (401 otherwise).
 */
import { csv, startVendorFixture, type VendorFixture, type VendorReply } from './fixture';

export const MDM_KEY = 'mdm-fixture-key';
export const MDM_BATCH_MAX = 100;

export interface MasterLink {
  crm_id: string;
  shopify_customer_ids: string[];
  zendesk_user_ids: string[];
}

export interface MasterDataFixture extends VendorFixture {
  readonly links: ReadonlyMap<string, MasterLink>;
}

const error = (status: number, message: string): VendorReply => ({ status, body: { error: message } });

export async function startMasterData(links: readonly MasterLink[]): Promise<MasterDataFixture> {
  const byCrmId = new Map(links.map((link) => [link.crm_id, link]));
  const fixture = await startVendorFixture({
    authorize: (headers) => (headers['x-api-key'] === MDM_KEY ? undefined : error(401, 'missing or wrong x-api-key')),
    throttled: () => ({ status: 429, body: { error: 'slow down' }, headers: { 'retry-after': '1' } }),
    notFound: () => error(404, 'no such route'),
    routes: [
      {
        template: 'GET /mdm/v1/links',
        handle(request) {
          const ids = csv(request.query.get('crm_ids'));
          if (ids.length > MDM_BATCH_MAX) return error(400, `at most ${MDM_BATCH_MAX} crm_ids`);
          return { status: 200, body: { links: ids.flatMap((id) => (byCrmId.has(id) ? [byCrmId.get(id)!] : [])) } };
        },
      },
    ],
  });
  return Object.assign(fixture, { links: byCrmId });
}
