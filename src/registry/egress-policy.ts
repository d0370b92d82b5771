import { lookup as dnsLookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import type { RegistryDefinition } from '../config/definition';

export type EgressPolicy = RegistryDefinition['egress'];

/** Resolves a host name to its addresses (replaceable in tests). */
export type HostResolver = (host: string) => Promise<Array<{ address: string; family: number }>>;

const resolveAll: HostResolver = (host) => dnsLookup(host, { all: true, verbatim: true });

/** Address ranges a registered source must not reach unless its host is in `allowPrivate`, by what they are. */
const RANGES: ReadonlyArray<readonly [string, ReadonlyArray<readonly [string, number, 'ipv4' | 'ipv6']>]> = [
  ['loopback', [['127.0.0.0', 8, 'ipv4'], ['::1', 128, 'ipv6']]],
  ['link-local (where cloud metadata endpoints such as 169.254.169.254 live)', [['169.254.0.0', 16, 'ipv4'], ['fe80::', 10, 'ipv6']]],
  ['private', [['10.0.0.0', 8, 'ipv4'], ['172.16.0.0', 12, 'ipv4'], ['192.168.0.0', 16, 'ipv4'], ['100.64.0.0', 10, 'ipv4'], ['fc00::', 7, 'ipv6']]],
  [
    'reserved',
    [
      ['0.0.0.0', 8, 'ipv4'],
      ['192.0.0.0', 24, 'ipv4'],
      ['198.18.0.0', 15, 'ipv4'],
      ['224.0.0.0', 3, 'ipv4'],
      ['::', 128, 'ipv6'],
      ['64:ff9b::', 96, 'ipv6'],
      ['ff00::', 8, 'ipv6'],
    ],
  ],
];

const BLOCKS = RANGES.map(([kind, subnets]) => {
  const list = new BlockList();
  for (const [network, prefix, family] of subnets) list.addSubnet(network, prefix, family);
  return [kind, list] as const;
});

/** What kind of internal address `address` is, or undefined for a public one. IPv4-mapped IPv6 counts as its IPv4. */
export function internalAddressKind(address: string): string | undefined {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  const plain = mapped ? mapped[1]! : address;
  const family = isIP(plain) === 6 ? 'ipv6' : 'ipv4';
  return BLOCKS.find(([, list]) => list.check(plain, family))?.[0];
}

function matches(pattern: string, host: string, port: string): boolean {
  const colon = pattern.lastIndexOf(':');
  const hasPort = colon > pattern.lastIndexOf(']') && colon !== -1 && /^[0-9]+$/.test(pattern.slice(colon + 1));
  const hostPattern = (hasPort ? pattern.slice(0, colon) : pattern).toLowerCase().replace(/^\[|\]$/g, '');
  if (hasPort && pattern.slice(colon + 1) !== port) return false;
  if (hostPattern === '*') return true;
  if (hostPattern.startsWith('*.')) return host.endsWith(hostPattern.slice(1));
  return host === hostPattern;
}

/**
 * Why a registered source may not call `target` (its base URL, its token URL), or undefined when it may: the host must be in
 * `allowedHosts` or `allowPrivate`, and every address it resolves to must be public unless the
 * host is in `allowPrivate`. Registration must not become a way to make the gateway call
 * internal services (cloud metadata, databases, the gateway's own admin API).
 */
export async function egressProblem(target: string, policy: EgressPolicy, resolve: HostResolver = resolveAll, what = 'base URL'): Promise<string | undefined> {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    return `"${target}" is not an absolute URL`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `only http and https sources can be registered, not ${url.protocol}`;
  if (url.username || url.password) return `credentials do not belong in a ${what}: declare auth with an environment reference`;
  const host = url.hostname.toLowerCase().replace(/^\[|\]$/g, '');
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  const privateAllowed = policy.allowPrivate.some((pattern) => matches(pattern, host, port));
  if (!privateAllowed && !policy.allowedHosts.some((pattern) => matches(pattern, host, port))) {
    return `${host}:${port} is not in registry.egress.allowedHosts (${policy.allowedHosts.join(', ') || 'empty'}): an operator must allow it in the gateway's configuration`;
  }
  if (privateAllowed) return undefined;
  let addresses: string[];
  try {
    addresses = isIP(host) ? [host] : (await resolve(host)).map((entry) => entry.address);
  } catch (error) {
    return `${host} does not resolve (${error instanceof Error && 'code' in error ? String(error.code) : 'lookup failed'})`;
  }
  for (const address of addresses) {
    const kind = internalAddressKind(address);
    if (kind) return `${host} resolves to ${address}, a ${kind} address: registered sources may only call public addresses unless registry.egress.allowPrivate lists the host`;
  }
  return undefined;
}
