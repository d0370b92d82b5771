/**
 * Signed change notifications, as a real system would send them: a JSON event POSTed to the
 * gateway's `/webhooks/<system>` with HMAC-SHA256 of the raw body (hex, `sha256=` prefixed) in
 * `x-virtualize-signature`. Delivery is best effort: a failure is dropped, as the sources it
 * stands in for do after their retries.
 */
import { createHmac, randomUUID } from 'node:crypto';

/** Where a system sends its notifications; `url` may be set once the gateway listens. */
export interface WebhookTarget {
  url?: string;
  secret: string;
}

export interface ChangeNotice {
  type: string;
  entity: string;
  field: string;
  key: string;
}

export function signedDelivery(secret: string, notice: ChangeNotice, id: string = randomUUID(), occurredAt: number = Date.now()): { body: string; signature: string } {
  const body = JSON.stringify({ id, occurredAt, ...notice });
  return { body, signature: `sha256=${createHmac('sha256', secret).update(body).digest('hex')}` };
}

/** Sends a notice; resolves when the gateway answered (or the delivery failed). */
export async function notify(target: WebhookTarget | undefined, notice: ChangeNotice): Promise<void> {
  if (!target?.url) return;
  const { body, signature } = signedDelivery(target.secret, notice);
  try {
    await fetch(target.url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-virtualize-signature': signature }, body, signal: AbortSignal.timeout(5_000) });
  } catch {
    // best effort
  }
}
