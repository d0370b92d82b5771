/** Small fetch helpers for the sandbox tests. */
import { SANDBOX_CREDENTIALS, TOKEN_PATH } from '../../sources/sandbox/auth';

export interface JsonResponse<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

/** Fetches and parses JSON; a body-less reply (204) gives `undefined`. */
export async function fetchJson<T = unknown>(url: string, init?: RequestInit): Promise<JsonResponse<T>> {
  const response = await fetch(url, init);
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: (text === '' ? undefined : JSON.parse(text)) as T };
}

export function postJson<T = unknown>(url: string, body: unknown): Promise<JsonResponse<T>> {
  return fetchJson<T>(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

/** Request counts of a sandbox, without its concurrency peak (which depends on timing). */
export function countsOf(handle: { stats(): { total: number; byRoute: Record<string, number> } }): { total: number; byRoute: Record<string, number> } {
  const { total, byRoute } = handle.stats();
  return { total, byRoute };
}

/** The CRM sandbox's API key header. */
export const CRM_KEY: Record<string, string> = { [SANDBOX_CREDENTIALS.crm.header]: SANDBOX_CREDENTIALS.crm.apiKey };

/** A bearer token from a sandbox's token endpoint, for its development client credentials. */
export async function sandboxToken(origin: string): Promise<string> {
  const { clientId, clientSecret } = SANDBOX_CREDENTIALS.support;
  const reply = await fetchJson<{ access_token: string }>(`${origin}${TOKEN_PATH}`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials',
  });
  if (reply.status !== 200) throw new Error(`token endpoint answered ${reply.status}`);
  return reply.body.access_token;
}

/** `fetchJson` presenting the headers `credentials` gives at the time of each call. */
export function authorizedFetch(credentials: () => Record<string, string>): typeof fetchJson {
  return (url, init = {}) => fetchJson(url, { ...init, headers: { ...credentials(), ...(init.headers as Record<string, string> | undefined) } });
}
