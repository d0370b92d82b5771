/** What the benchmark's processes share: where the project is, and what a running gateway or sandbox set looks like from outside. */
import { join } from 'node:path';

/** Compiled layout: dist/bench/*.js, two levels below the project root. */
export const PROJECT_ROOT = join(__dirname, '..', '..');

/** The base URLs of the three sandbox systems (`http://127.0.0.1:<port>`), as `virtualize sandbox` prints them. */
export interface SandboxUrls {
  readonly crm: string;
  readonly orders: string;
  readonly support: string;
}

export const SYSTEMS = ['crm', 'orders', 'support'] as const;

/**
 * The API keys the benchmark's clients send: the virtualize gateway declares them as static keys
 * (each client authenticates, as in production, and spends a budget of its own); the naive
 * gateway ignores them.
 */
export const BENCH_CLIENT_KEY_COUNT = 64;
export function benchClientKey(index: number): string {
  return `bench-client-${(index % BENCH_CLIENT_KEY_COUNT) + 1}`;
}
export type SystemName = (typeof SYSTEMS)[number];

export interface RunningGateway {
  readonly name: string;
  /** The GraphQL endpoint. */
  readonly url: string;
  close(): Promise<void>;
}

/** Accepts only `{"crm": url, "orders": url, "support": url}` with loopback http URLs. */
export function parseSandboxUrls(value: unknown): SandboxUrls {
  const record = value as Record<string, unknown> | null;
  const urls = Object.fromEntries(
    SYSTEMS.map((system) => {
      const url = record && typeof record === 'object' ? record[system] : undefined;
      if (typeof url !== 'string' || !/^http:\/\/(127\.0\.0\.1|\[::1\]|localhost):\d+$/.test(url)) {
        throw new Error(`expected a loopback http URL for ${system}, got ${JSON.stringify(url)}`);
      }
      return [system, url];
    }),
  );
  return urls as unknown as SandboxUrls;
}
