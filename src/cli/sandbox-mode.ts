/**
 * `virtualize sandbox` and `virtualize start --sandbox`: the sandbox CRM, order and support
 * systems, and the undeclared billing system, beside the gateway. Loaded only when one of those
 * is asked for, so the production entry never loads `sources/`.
 */
import { sandboxEnv, startSandboxes, type WebhookTarget } from '../../sources/sandbox';
import { startBilling, BILLING_SANDBOX_KEY } from '../../sources/billing/server';
import { DEMO_KEY_ENV, DEMO_KEYS, SANDBOX_PORTS } from '../../virtualization.config';
import type { VirtualizationConfig } from '../config/definition';
import { resolveEnv } from '../config/env';

type SandboxesOptions = NonNullable<Parameters<typeof startSandboxes>[0]>;

export interface SandboxModeOptions {
  latencyMs: number;
  ports: NonNullable<SandboxesOptions['ports']> & { billing: number };
}

/** `--sandbox-ports crm,orders,support[,billing]`, checked; the usual ports without it. */
export function sandboxPorts(text: string | undefined): SandboxModeOptions['ports'] {
  const ports = (text ?? `${SANDBOX_PORTS.crm},${SANDBOX_PORTS.orders},${SANDBOX_PORTS.support}`).split(',').map(Number);
  if (ports.length < 3 || ports.length > 4 || ports.some((port) => !Number.isInteger(port) || port < 0 || port > 65_535)) {
    throw new Error(`--sandbox-ports takes three or four ports, crm,orders,support[,billing] (for example 4101,4102,4103 or 0,0,0); got "${text}"`);
  }
  // Without a fourth port, billing takes a free one when the others do, else its usual one.
  const billing = ports[3] ?? (ports.every((port) => port === 0) ? 0 : SANDBOX_PORTS.billing);
  return { crm: ports[0]!, orders: ports[1]!, support: ports[2]!, billing };
}

/** `virtualize sandbox`: the three declared systems alone; their URLs as one JSON line. */
export async function runSandboxes(options: SandboxModeOptions): Promise<{ close(): Promise<void> }> {
  const sandboxes = await startSandboxes(options);
  process.stdout.write(`${JSON.stringify({ crm: sandboxes.crm.url, orders: sandboxes.orders.url, support: sandboxes.support.url })}\n`);
  return sandboxes;
}

/** Where the sandboxes send their signed change notifications: the sources with a webhook secret set. */
function webhookTargets(config: VirtualizationConfig, env: NodeJS.ProcessEnv): Record<string, WebhookTarget> {
  const targets: Record<string, WebhookTarget> = {};
  for (const [source, secret] of Object.entries(config.cache.webhooks.secrets)) {
    try {
      targets[source] = { secret: resolveEnv(secret, env) };
    } catch {
      // No secret for this source: its sandbox sends no notifications.
    }
  }
  return targets;
}

/** The variable of the demo key with every scope: what GraphiQL opens with in sandbox mode. */
export const DEMO_KEY_VARIABLE = DEMO_KEYS.full.variable;

/** The demo keys' variables, set to their documented values where `env` leaves them unset. */
export function demoKeyEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const defaults: NodeJS.ProcessEnv = {};
  for (const [variable, key] of Object.entries(DEMO_KEY_ENV)) if (env[variable] === undefined) defaults[variable] = key;
  return defaults;
}

/** A GraphQL query in JSON, for a curl line (no single quotes, so that it pastes into a shell as written). */
const CURL_QUERY = JSON.stringify({ query: '{ customers(first: 2) { nodes { name email } } }' });

/**
 * The lines sandbox mode prints once the gateway listens: the demo keys in full, and a curl line
 * that runs as written. `env` is the gateway's environment (the keys in effect).
 */
export function sandboxBanner(gatewayUrl: string, env: NodeJS.ProcessEnv): string {
  const full = env[DEMO_KEYS.full.variable];
  const limited = env[DEMO_KEYS.limited.variable];
  const lines: string[] = [];
  if (full) lines.push(`Demo API key (${DEMO_KEYS.full.variable}, scopes ${DEMO_KEYS.full.scopes.join(' ')}): ${full}`);
  if (limited) lines.push(`Limited demo key (${DEMO_KEYS.limited.variable}, scopes ${DEMO_KEYS.limited.scopes.join(' ')}): ${limited}`);
  if (full) lines.push(`Try it: curl -s ${gatewayUrl}/graphql -H 'content-type: application/json' -H 'x-api-key: ${full}' -d '${CURL_QUERY}'`);
  return lines.map((line) => `${line}\n`).join('');
}

export interface SandboxMode {
  /**
   * The sandboxes' base URLs for the built-in configuration's environment references (they may be
   * on free ports), and the demo keys' documented values (the environment's own win over both).
   */
  readonly env: NodeJS.ProcessEnv;
  /** Points the sandboxes' notifications at the gateway's webhooks, once it listens. */
  notify(gatewayUrl: string): void;
  close(): Promise<void>;
}

/** The four sandbox systems for `start --sandbox`, their URLs printed. */
export async function startSandboxMode(config: VirtualizationConfig, options: SandboxModeOptions, env: NodeJS.ProcessEnv): Promise<SandboxMode> {
  const targets = webhookTargets(config, env);
  const sandboxes = await startSandboxes({ ...options, webhooks: targets });
  // The fourth system, which the configuration does not declare: an architect registers it at run time.
  const billing = await startBilling({ port: options.ports.billing, apiKey: env.BILLING_API_KEY ?? BILLING_SANDBOX_KEY }).catch(async (error: unknown) => {
    await sandboxes.close();
    throw error;
  });
  process.stdout.write(`Sandbox systems: crm ${sandboxes.crm.url}, orders ${sandboxes.orders.url}, support ${sandboxes.support.url}, billing ${billing.url} (not declared)\n`);
  return {
    env: { ...sandboxEnv(sandboxes), ...demoKeyEnv(env) },
    notify(gatewayUrl) {
      for (const [source, target] of Object.entries(targets)) target.url = `${gatewayUrl}/webhooks/${source}`;
    },
    async close() {
      await sandboxes.close();
      await billing.close();
    },
  };
}
