import { isIP } from 'node:net';
import type { RegistryDefinition } from '../config/definition';
import { addressRefusal, hostRefusal, normalizedHost, privateAllowed, systemResolver, type HostResolver } from '../connectors/egress-guard';

export { internalAddressKind, type HostResolver } from '../connectors/egress-guard';

export type EgressPolicy = RegistryDefinition['egress'];

/**
 * Why a registered source may not call `target` (its base URL, its token URL), or undefined when it
 * may: the host must be in `allowedHosts` or `allowPrivate`, and every address it resolves to must
 * be public unless the host is in `allowPrivate`. Registration must not become a way to make the
 * gateway call internal services (cloud metadata, databases, the gateway's own admin API).
 *
 * This is the check at registration, for a dry run to report; the same rules run again on every
 * connection the source's pool or token endpoint makes (`EgressGuard` in the connectors), on the
 * addresses connected to, so that a name resolving elsewhere later (DNS rebinding) gains nothing.
 */
export async function egressProblem(target: string, policy: EgressPolicy, resolve: HostResolver = systemResolver, what = 'base URL'): Promise<string | undefined> {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    return `"${target}" is not an absolute URL`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `only http and https sources can be registered, not ${url.protocol}`;
  if (url.username || url.password) return `credentials do not belong in a ${what}: declare auth with an environment reference`;
  const host = normalizedHost(url.hostname);
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  const refused = hostRefusal(policy, host, port);
  if (refused) return refused;
  if (privateAllowed(policy, host, port)) return undefined;
  let addresses: string[];
  try {
    addresses = isIP(host) ? [host] : (await resolve(host)).map((entry) => entry.address);
  } catch (error) {
    return `${host} does not resolve (${error instanceof Error && 'code' in error ? String(error.code) : 'lookup failed'})`;
  }
  return addressRefusal(host, addresses);
}
