/**
 * virtualize as `npm start` runs it (the built-in config, its limits untouched, started through the
 * composition root with its registry), pointed at the benchmark's sandboxes through the
 * environment references the config declares.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import baseConfig, { DEMO_KEY_ENV } from '../virtualization.config';
import { validateConfig } from '../src/config/validate';
import { createRuntime } from '../src/runtime/create-runtime';
import { createLogger, destinationOf } from '../src/telemetry/logger';
import { BENCH_CLIENT_KEY_COUNT, benchClientKey, PROJECT_ROOT, type RunningGateway, type SandboxUrls } from './project';

/** Every scope of the built-in schema and sources: what an anonymous caller of the paired run holds. */
export const ALL_SCOPES = ['customers:read', 'orders:read', 'tickets:read', 'pii:read', 'billing:read'] as const;

export function sandboxEnv(sandboxes: SandboxUrls): NodeJS.ProcessEnv {
  return {
    CRM_URL: `${sandboxes.crm}/services/data/v58.0`,
    ORDERS_URL: `${sandboxes.orders}/api`,
    SUPPORT_URL: `${sandboxes.support}/api/v2`,
  };
}

/** The demo keys as sandbox mode sets them (the environment's own values win). */
function demoKeys(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(DEMO_KEY_ENV).map(([variable, key]) => [variable, process.env[variable] || key]));
}

/** The benchmark clients' keys as static keys (bench1 ... bench64), each from a variable of its own. */
function benchKeys(): { definitions: Record<string, { key: { env: string }; scopes: string[] }>; env: NodeJS.ProcessEnv } {
  const definitions: Record<string, { key: { env: string }; scopes: string[] }> = {};
  const env: NodeJS.ProcessEnv = {};
  for (let i = 0; i < BENCH_CLIENT_KEY_COUNT; i += 1) {
    definitions[`bench${i + 1}`] = { key: { env: `BENCH_CLIENT_KEY_${i + 1}` }, scopes: ['customers:read', 'orders:read', 'tickets:read', 'pii:read', 'billing:read'] };
    env[`BENCH_CLIENT_KEY_${i + 1}`] = benchClientKey(i);
  }
  return { definitions, env };
}

/**
 * `maxConcurrency` overrides per source, for a variant that shows what the configured limits cost;
 * without them the gateway runs exactly as configured.
 */
export async function startVirtualize(
  sandboxes: SandboxUrls,
  options: { name?: string; maxConcurrency?: Record<string, number>; cache?: boolean; anonymous?: boolean; unboundedBudget?: boolean } = {},
): Promise<RunningGateway> {
  const input = structuredClone(baseConfig);
  // Without authentication's work, for the benchmark's paired run: any caller, with every scope.
  if (options.anonymous) input.auth = { ...input.auth, anonymous: { scopes: [...ALL_SCOPES] } };
  // Thousands of answers a second from one client, which a per-client budget would rightly throttle.
  if (options.unboundedBudget) input.guard = { ...input.guard, budget: { ...input.guard?.budget, capacity: 1e12, restoreRate: 1e12 } };
  // The cold phases measure the engine itself: the cache tiers stay off unless asked for.
  if (!options.cache) input.cache = { upstream: { enabled: false }, responses: { enabled: false } };
  for (const [source, maxConcurrency] of Object.entries(options.maxConcurrency ?? {})) {
    const definition = input.sources[source];
    if (!definition) throw new Error(`no source ${source} in virtualization.config.ts`);
    definition.limits = { ...definition.limits, maxConcurrency };
  }
  // The file registry in a directory of its own, so that a run leaves nothing in the checkout.
  const registryDir = mkdtempSync(join(tmpdir(), 'virtualize-bench-registry-'));
  const removeRegistry = () => rmSync(registryDir, { recursive: true, force: true });
  const keys = benchKeys();
  input.auth = { ...input.auth, apiKeys: { ...input.auth?.apiKeys, static: { ...input.auth?.apiKeys?.static, ...keys.definitions } } };
  const config = validateConfig({ ...input, server: { port: 0, host: '127.0.0.1' }, registry: { ...input.registry, store: { kind: 'file', dir: registryDir } } });
  try {
    // Logged as in production (JSON lines, written asynchronously), into /dev/null rather than onto the benchmark's console.
    const logs = { app: createLogger('app', destinationOf('/dev/null')!), audit: createLogger('audit', destinationOf('/dev/null')!) };
    const runtime = await createRuntime(config, { baseDir: PROJECT_ROOT, env: { ...demoKeys(), ...sandboxEnv(sandboxes), ...keys.env }, sandbox: true, shutdownGraceMs: 2_000, logs });
    return { name: options.name ?? 'virtualize', url: `${runtime.url}/graphql`, close: () => runtime.close().finally(removeRegistry) };
  } catch (error) {
    removeRegistry();
    throw error;
  }
}
