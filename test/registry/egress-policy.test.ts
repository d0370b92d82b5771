import { egressProblem, internalAddressKind, type HostResolver } from '../../src/registry/egress-policy';

/** DNS as an attacker who controls a zone would answer. */
const dns: Record<string, string[]> = {
  'api.billing.example.com': ['93.184.216.34'],
  'metadata.evil.example': ['169.254.169.254'],
  'db.evil.example': ['93.184.216.34', '10.0.0.7'],
  'v6.evil.example': ['fd12:3456::1'],
};
const resolve: HostResolver = async (host) => {
  const addresses = dns[host];
  if (!addresses) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
  return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
};

describe('the egress policy of registered sources', () => {
  it('classifies internal addresses, IPv4-mapped IPv6 included', () => {
    expect(['127.0.0.1', '::1', '169.254.169.254', 'fe80::1', '10.1.2.3', '172.20.0.1', '192.168.1.1', '100.64.0.1', 'fd00::1', '0.0.0.0', '::ffff:10.0.0.1', '::ffff:7f00:1'].map(internalAddressKind)).toEqual([
      'loopback',
      'loopback',
      expect.stringMatching(/^link-local/),
      expect.stringMatching(/^link-local/),
      'private',
      'private',
      'private',
      'private',
      'private',
      'unspecified',
      'private (10.0.0.1 in IPv6 form)',
      'loopback (127.0.0.1 in IPv6 form)',
    ]);
    expect(internalAddressKind('93.184.216.34')).toBeUndefined();
    expect(internalAddressKind('2606:2800:220:1:248:1893:25c8:1946')).toBeUndefined();
  });

  it('lets a registered source call allowed public hosts only', async () => {
    const policy = { allowedHosts: ['*.billing.example.com', 'partner.example:8443'], allowPrivate: [] };
    expect(await egressProblem('https://api.billing.example.com/v2', policy, resolve)).toBeUndefined();
    expect(await egressProblem('https://partner.example/api', policy, resolve)).toBe('partner.example:443 is not in registry.egress.allowedHosts (*.billing.example.com, partner.example:8443): an operator must allow it in the gateway\'s configuration');
    expect(await egressProblem('https://billing.example.com.evil.example/', policy, resolve)).toContain('is not in registry.egress.allowedHosts');
  });

  it('refuses names that resolve to internal addresses, whatever the allowlist says, unless allowPrivate lists them', async () => {
    const open = { allowedHosts: ['*'], allowPrivate: ['127.0.0.1:4104'] };
    expect(await egressProblem('http://metadata.evil.example/latest', open, resolve)).toBe(
      'metadata.evil.example resolves to 169.254.169.254, a link-local (where cloud metadata endpoints such as 169.254.169.254 live) address: registered sources may only call public addresses unless registry.egress.allowPrivate lists the host',
    );
    expect(await egressProblem('http://db.evil.example/', open, resolve)).toContain('resolves to 10.0.0.7, a private address');
    expect(await egressProblem('http://v6.evil.example/', open, resolve)).toContain('resolves to fd12:3456::1, a private address');
    expect(await egressProblem('http://nowhere.example/', open, resolve)).toBe('nowhere.example does not resolve (ENOTFOUND)');
    expect(await egressProblem('http://127.0.0.1:4104/billing/v2', open, resolve)).toBeUndefined();
    expect(await egressProblem('http://127.0.0.1:4105/', open, resolve)).toContain('127.0.0.1 is a loopback address');
  });
});
