/**
 * The egress policy where connections are made: which addresses are internal (ipaddr.js's ranges,
 * IPv6 forms of IPv4 addresses judged by what they carry), and a source client whose connections
 * pass an EgressGuard: a name that resolves to loopback at connect time is refused before any
 * byte reaches the loopback server, whatever it resolved to before; so is its token endpoint.
 */
import { sourceDefinition, type SourceDefinitionInput } from '../../src/config/definition';
import { EgressGuard, internalAddressKind, type EgressRules, type HostResolver } from '../../src/connectors/egress-guard';
import { SourceHttpClient } from '../../src/connectors/http-client';
import { startFakeSource, type FakeSource } from '../support/fake-source';

describe('internal addresses', () => {
  it('are every address that is not global unicast, by the kind the message names', () => {
    const kinds = Object.fromEntries(
      [
        '127.0.0.1',
        '10.1.2.3',
        '172.20.0.1',
        '192.168.1.1',
        '100.64.0.1',
        '169.254.169.254',
        '0.0.0.0',
        '255.255.255.255',
        '224.0.0.251',
        '192.0.2.10',
        '198.18.0.1',
        '240.0.0.1',
        '::1',
        '::',
        'fe80::1',
        'fd12:3456::1',
        'ff02::1',
        '2001:db8::1',
        '2001:2::1',
        '100::1',
        '2002:7f00:1::1',
        '2001::1',
        '64:ff9b:1::a00:1',
      ].map((address) => [address, internalAddressKind(address)]),
    );
    expect(kinds).toEqual({
      '127.0.0.1': 'loopback',
      '10.1.2.3': 'private',
      '172.20.0.1': 'private',
      '192.168.1.1': 'private',
      '100.64.0.1': 'private',
      '169.254.169.254': expect.stringMatching(/^link-local/),
      '0.0.0.0': 'unspecified',
      '255.255.255.255': 'broadcast',
      '224.0.0.251': 'multicast',
      '192.0.2.10': 'reserved',
      '198.18.0.1': 'reserved',
      '240.0.0.1': 'reserved',
      '::1': 'loopback',
      '::': 'unspecified',
      'fe80::1': expect.stringMatching(/^link-local/),
      'fd12:3456::1': 'private',
      'ff02::1': 'multicast',
      '2001:db8::1': 'reserved',
      '2001:2::1': 'reserved (benchmarking)',
      '100::1': 'reserved (discard)',
      '2002:7f00:1::1': 'reserved (6to4)',
      '2001::1': 'reserved (teredo)',
      '64:ff9b:1::a00:1': 'reserved (local-use NAT64)',
    });
  });

  it('judges IPv6 forms of an IPv4 address (mapped, compatible, translated, NAT64) by the address they carry', () => {
    for (const form of ['::ffff:127.0.0.1', '::ffff:7f00:1', '::127.0.0.1', '::ffff:0:7f00:1', '64:ff9b::7f00:1', '[::ffff:127.0.0.1]']) {
      expect([form, internalAddressKind(form)]).toEqual([form, 'loopback (127.0.0.1 in IPv6 form)']);
    }
    expect(internalAddressKind('::ffff:169.254.169.254')).toMatch(/^link-local .* \(169\.254\.169\.254 in IPv6 form\)$/);
    expect(internalAddressKind('64:ff9b::a00:1')).toBe('private (10.0.0.1 in IPv6 form)');
    for (const open of ['93.184.216.34', '8.8.8.8', '::ffff:8.8.8.8', '64:ff9b::808:808', '2606:2800:220:1:248:1893:25c8:1946']) expect(internalAddressKind(open)).toBeUndefined();
    expect(internalAddressKind('rebind.test')).toBe('not an IP address');
  });
});

describe('a registered source connecting through its egress guard', () => {
  let target: FakeSource;
  const open: Array<{ close(): Promise<void> }> = [];
  /** What the test's DNS answers for each name; changed between registration and connect time. */
  let dns: Record<string, string[]>;
  const resolved: string[] = [];
  const resolve: HostResolver = async (host) => {
    resolved.push(host);
    const addresses = dns[host];
    if (!addresses) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };

  beforeEach(async () => {
    resolved.length = 0;
    target = await startFakeSource(({ path }) => (path === '/oauth/token' ? { body: JSON.stringify({ access_token: 't', token_type: 'Bearer' }) } : { body: '{"ok":true}' }));
    open.push(target);
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((o) => o.close()));
  });

  function client(definition: Partial<SourceDefinitionInput> & { baseUrl: string }, rules: EgressRules): SourceHttpClient {
    const http = new SourceHttpClient('ledger', sourceDefinition.parse({ entities: {}, limits: { retry: false }, ...definition }), { LEDGER_SECRET: 'ledger-client-secret' }, undefined, new EgressGuard(rules, resolve));
    open.push(http);
    return http;
  }

  async function failure(http: SourceHttpClient): Promise<{ code: string; message: string }> {
    const error = (await http.getJson('/entries', 'GET /entries', 1).then(
      () => new Error('the call went through'),
      (e: unknown) => e,
    )) as { code: string; message: string };
    return { code: error.code, message: error.message };
  }

  it('refuses a name that resolves to loopback at connect time, with nothing sent, and lets allowPrivate through', async () => {
    dns = { 'rebind.test': ['127.0.0.1'] };
    const refused = await failure(client({ baseUrl: `http://rebind.test:${target.port}/api` }, { allowedHosts: ['*'], allowPrivate: [] }));
    expect(refused).toEqual({
      code: 'SOURCE_EGRESS_REFUSED',
      message: `Source ledger was not called (GET /entries): the connection to rebind.test:${target.port} was refused by the egress policy: rebind.test resolves to 127.0.0.1, a loopback address: registered sources may only call public addresses unless registry.egress.allowPrivate lists the host`,
    });
    expect(resolved).toEqual(['rebind.test']);
    expect(target.requests).toHaveLength(0);

    // The same name and the same DNS with the host in allowPrivate: the call reaches the loopback server.
    const allowed = client({ baseUrl: `http://rebind.test:${target.port}/api` }, { allowedHosts: [], allowPrivate: [`rebind.test:${target.port}`] });
    expect((await allowed.getJson('/entries', 'GET /entries', 1)).body).toEqual({ ok: true });
    const literal = client({ baseUrl: `${target.origin}/api` }, { allowedHosts: [], allowPrivate: [`127.0.0.1:${target.port}`] });
    expect((await literal.getJson('/entries', 'GET /entries', 1)).body).toEqual({ ok: true });
    expect(target.requests.map((r) => `${r.headers.host} ${r.path}`)).toEqual([`rebind.test:${target.port} /api/entries`, `127.0.0.1:${target.port} /api/entries`]);
    expect(resolved).toEqual(['rebind.test', 'rebind.test']);
  });

  it('refuses any internal address among the answers, IPv4-mapped and literal addresses included', async () => {
    dns = { 'mixed.test': ['93.184.216.34', '::ffff:127.0.0.1'] };
    const rules = { allowedHosts: ['*'], allowPrivate: [] };
    expect(await failure(client({ baseUrl: `http://mixed.test:${target.port}/` }, rules))).toMatchObject({
      code: 'SOURCE_EGRESS_REFUSED',
      message: expect.stringContaining('mixed.test resolves to ::ffff:127.0.0.1, a loopback (127.0.0.1 in IPv6 form) address'),
    });
    expect(await failure(client({ baseUrl: `http://[::ffff:127.0.0.1]:${target.port}/` }, rules))).toMatchObject({
      code: 'SOURCE_EGRESS_REFUSED',
      message: expect.stringContaining(`the connection to ::ffff:7f00:1:${target.port} was refused by the egress policy: ::ffff:7f00:1 is a loopback (127.0.0.1 in IPv6 form) address`),
    });
    expect(await failure(client({ baseUrl: `${target.origin}/` }, rules))).toMatchObject({ code: 'SOURCE_EGRESS_REFUSED', message: expect.stringContaining('127.0.0.1 is a loopback address') });
    expect(await failure(client({ baseUrl: `${target.origin}/` }, { allowedHosts: ['*.example.com'], allowPrivate: [] }))).toMatchObject({
      code: 'SOURCE_EGRESS_REFUSED',
      message: expect.stringContaining(`127.0.0.1:${target.port} is not in registry.egress.allowedHosts (*.example.com)`),
    });
    expect(target.requests).toHaveLength(0);

    // Without a guard (a source of the configuration file), the mapped form is a way to the loopback server.
    const trusted = new SourceHttpClient('ledger', sourceDefinition.parse({ baseUrl: `http://[::ffff:127.0.0.1]:${target.port}/`, entities: {} }));
    open.push(trusted);
    expect((await trusted.getJson('/entries', 'GET /entries', 1)).body).toEqual({ ok: true });
    expect(target.requests).toHaveLength(1);
  });

  it('connects the token endpoint through the guard too: the client credentials never reach a refused address', async () => {
    dns = { 'api.ledger.test': ['93.184.216.34'], 'login.ledger.test': ['127.0.0.1'] };
    const http = client(
      {
        baseUrl: 'http://api.ledger.test/v1',
        auth: { type: 'oauth2ClientCredentials', tokenUrl: `http://login.ledger.test:${target.port}/oauth/token`, clientId: 'gateway', clientSecret: { env: 'LEDGER_SECRET' } },
      },
      { allowedHosts: ['*'], allowPrivate: [] },
    );
    expect(await failure(http)).toEqual({
      code: 'SOURCE_EGRESS_REFUSED',
      message: `Source ledger was not called (GET /entries): the connection to login.ledger.test:${target.port} was refused by the egress policy: login.ledger.test resolves to 127.0.0.1, a loopback address: registered sources may only call public addresses unless registry.egress.allowPrivate lists the host`,
    });
    expect(target.requests).toHaveLength(0);
    expect(resolved).toEqual(['login.ledger.test']);
  });
});
