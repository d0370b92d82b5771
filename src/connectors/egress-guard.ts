/**
 * The egress policy of registered sources, applied where connections are made. A registered
 * source's connections (its pool's and its token endpoint's) are opened through
 * `EgressGuard.connector`: undici's own connector with a checking `lookup`, so that the addresses
 * checked are the addresses connected to. A check at registration alone would leave DNS rebinding
 * open: a name that resolved to a public address then may resolve to 127.0.0.1 when the pool
 * connects. Sources declared in the configuration file are trusted as written and get no guard.
 *
 * Which addresses are internal comes from ipaddr.js's `range()` (its table follows the IANA
 * special-purpose registries): anything that is not global unicast is refused, and IPv6 forms that
 * carry an IPv4 address (IPv4-mapped, IPv4-compatible, IPv4-translated, NAT64) are judged by the
 * IPv4 address they carry.
 */
import { lookup as dnsLookup } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';
import { buildConnector } from 'undici';
import { EgressRefusedError } from './errors';

/** Where registered sources may connect: `registry.egress` of the configuration. */
export interface EgressRules {
  /** Hosts registered sources may call (`*` for any public host). */
  readonly allowedHosts: readonly string[];
  /** Hosts that may resolve to internal addresses (the sandbox); also allowed. */
  readonly allowPrivate: readonly string[];
}

/** Resolves a host name to its addresses (tests replace it with a resolver they control). */
export type HostResolver = (host: string) => Promise<Array<{ address: string; family: number }>>;

/** The system's resolver, as connections use it: every address, in the order the system gives them. */
export const systemResolver: HostResolver = (host) =>
  new Promise((resolve, reject) => dnsLookup(host, { all: true, verbatim: true }, (error, addresses) => (error ? reject(error) : resolve(addresses))));

const LINK_LOCAL = 'link-local (where cloud metadata endpoints such as 169.254.169.254 live)';

/** What each of ipaddr.js's ranges is called in messages; a range not named here is `reserved (<its name>)`. */
const KIND_OF_RANGE: Readonly<Record<string, string>> = {
  loopback: 'loopback',
  linkLocal: LINK_LOCAL,
  private: 'private',
  uniqueLocal: 'private',
  carrierGradeNat: 'private',
  multicast: 'multicast',
  broadcast: 'broadcast',
  unspecified: 'unspecified',
  reserved: 'reserved',
};

/** IPv6 ranges whose last 32 bits are an IPv4 address that the packet ends up at. */
const CARRIES_IPV4 = new Set(['ipv4Mapped', 'rfc6145']);

/**
 * The well-known NAT64 prefix 64:ff9b::/96 (RFC 6052) carries its IPv4 address in the last 32
 * bits; the local-use prefix 64:ff9b:1::/48 (RFC 8215) places it where the operator chose, so it
 * is refused whatever it carries.
 */
function wellKnownNat64(address: ipaddr.IPv6): boolean {
  const [a, b, ...rest] = address.parts;
  return a === 0x64 && b === 0xff9b && rest.slice(0, 4).every((part) => part === 0);
}

function embeddedIpv4(address: ipaddr.IPv6): ipaddr.IPv4 {
  return new ipaddr.IPv4(address.toByteArray().slice(12));
}

function kindOf(range: string): string {
  return KIND_OF_RANGE[range] ?? `reserved (${range})`;
}

/**
 * What kind of internal address `address` is, or undefined for a public (global unicast) one.
 * An IPv6 form of an IPv4 address is judged by that IPv4 address; 6to4 and Teredo, which tunnel
 * to addresses this check cannot see, are refused whatever they carry.
 */
export function internalAddressKind(address: string): string | undefined {
  const plain = address.replace(/^\[|\]$/g, '');
  if (!isIP(plain.split('%')[0]!)) return 'not an IP address';
  const parsed = ipaddr.parse(plain);
  if (parsed.kind() === 'ipv4') {
    const range = parsed.range();
    return range === 'unicast' ? undefined : kindOf(range);
  }
  const v6 = parsed as ipaddr.IPv6;
  const range = v6.range();
  // ::a.b.c.d, the deprecated IPv4-compatible form: ipaddr.js calls it unicast, the stack may route it to a.b.c.d.
  const compatible = range === 'unicast' && v6.parts.slice(0, 6).every((part) => part === 0);
  if (CARRIES_IPV4.has(range) || compatible || (range === 'rfc6052' && wellKnownNat64(v6))) {
    const v4 = embeddedIpv4(v6);
    const inner = v4.range();
    return inner === 'unicast' ? undefined : `${kindOf(inner)} (${v4.toString()} in IPv6 form)`;
  }
  if (range === 'rfc6052') return 'reserved (local-use NAT64)';
  return range === 'unicast' ? undefined : kindOf(range);
}

/** Whether `pattern` (`host`, `*.domain` or `*`, optionally `:port`) covers `host` on `port`. */
export function hostMatches(pattern: string, host: string, port: string): boolean {
  const colon = pattern.lastIndexOf(':');
  const hasPort = colon > pattern.lastIndexOf(']') && colon !== -1 && /^[0-9]+$/.test(pattern.slice(colon + 1));
  const hostPattern = (hasPort ? pattern.slice(0, colon) : pattern).toLowerCase().replace(/^\[|\]$/g, '');
  if (hasPort && pattern.slice(colon + 1) !== port) return false;
  if (hostPattern === '*') return true;
  if (hostPattern.startsWith('*.')) return host.endsWith(hostPattern.slice(1));
  return host === hostPattern;
}

/** A host as URLs and connectors give it, for matching: lower case, IPv6 without brackets. */
export function normalizedHost(host: string): string {
  return host.toLowerCase().replace(/^\[|\]$/g, '');
}

/** Whether the policy lets `host` reach internal addresses (`allowPrivate`, the sandbox). */
export function privateAllowed(rules: EgressRules, host: string, port: string): boolean {
  return rules.allowPrivate.some((pattern) => hostMatches(pattern, host, port));
}

/** Why `host:port` may not be called at all, or undefined when the allow-lists name it. */
export function hostRefusal(rules: EgressRules, host: string, port: string): string | undefined {
  if (privateAllowed(rules, host, port) || rules.allowedHosts.some((pattern) => hostMatches(pattern, host, port))) return undefined;
  return `${host}:${port} is not in registry.egress.allowedHosts (${rules.allowedHosts.join(', ') || 'empty'}): an operator must allow it in the gateway's configuration`;
}

/** Why `host` may not be reached at these addresses, or undefined when every one is public. */
export function addressRefusal(host: string, addresses: readonly string[]): string | undefined {
  for (const address of addresses) {
    const kind = internalAddressKind(address);
    if (!kind) continue;
    const what = address === host ? `${host} is a ${kind} address` : `${host} resolves to ${address}, a ${kind} address`;
    return `${what}: registered sources may only call public addresses unless registry.egress.allowPrivate lists the host`;
  }
  return undefined;
}

type Connector = buildConnector.connector;
type ConnectOptions = buildConnector.Options;

/** The guard of one registered source's connections. */
export class EgressGuard {
  constructor(
    readonly rules: EgressRules,
    private readonly resolve: HostResolver = systemResolver,
  ) {}

  /**
   * An undici connector (the `connect` option of a Pool) that refuses a connection the policy
   * does not allow, before any byte is sent: the host must be allowed, and every address its name
   * resolves to now, at connect time, must be public unless `allowPrivate` lists the host. A
   * refusal fails the connection with an `EgressRefusedError` naming the host and the rule.
   */
  connector(timeoutMs: number): Connector {
    const checked = buildConnector({ timeout: timeoutMs, lookup: this.lookup(true) });
    // Hosts in allowPrivate resolve through the same resolver, unchecked.
    const plain = buildConnector({ timeout: timeoutMs, lookup: this.lookup(false) });
    return (options: ConnectOptions, callback) => {
      const host = normalizedHost(options.hostname);
      const port = options.port || (options.protocol === 'https:' ? '443' : '80');
      const refused = hostRefusal(this.rules, host, port);
      if (refused) return callback(new EgressRefusedError(host, port, refused), null);
      if (privateAllowed(this.rules, host, port)) return plain(options, callback);
      // A literal address is connected to without a lookup.
      if (isIP(host)) {
        const internal = addressRefusal(host, [host]);
        if (internal) return callback(new EgressRefusedError(host, port, internal), null);
      }
      return checked(options, (error, socket) => {
        // The lookup knows the name, not the port: the refusal is named again with both.
        if (error instanceof EgressRefusedError) return callback(new EgressRefusedError(host, port, error.reason), null);
        return error ? callback(error, null) : callback(null, socket!);
      });
    };
  }

  /** A `lookup` for net.connect that resolves with the guard's resolver and, when `check`, hands on only addresses it checked. */
  private lookup(check: boolean): LookupFunction {
    return (hostname, options, callback) => {
      this.resolve(hostname).then(
        (all) => {
          const wanted = options.family === 4 || options.family === 6 ? all.filter((entry) => entry.family === options.family) : all;
          if (wanted.length === 0) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), '', 0);
          // Every address is checked, not only the first: net.connect may try each in turn (happy eyeballs).
          const refused = check ? addressRefusal(hostname, wanted.map((entry) => entry.address)) : undefined;
          if (refused) return callback(new EgressRefusedError(hostname, '', refused), '', 0);
          if (options.all) return (callback as unknown as (error: null, addresses: typeof wanted) => void)(null, wanted);
          return callback(null, wanted[0]!.address, wanted[0]!.family);
        },
        (error: NodeJS.ErrnoException) => callback(error, '', 0),
      );
    };
  }
}
