/** Small fetch helpers for the sandbox tests. */

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
