/**
 * The rules of a run-time registration on their own: every environment reference of every kind of
 * auth (secrets marked, so that a default, which would store the secret in clear, is refused), every
 * URL a source names (its base URL and an OAuth token URL) checked against the egress policy, and
 * the rules that need neither environment nor network. DNS here is a table.
 */
import baseConfig from '../../virtualization.config';
import { authDefinition, definitionDocument, envRef, type DefinitionDocument, type SourceDefinitionInput } from '../../src/config/definition';
import { validateConfig } from '../../src/config/validate';
import type { HostResolver } from '../../src/registry/egress-policy';
import { envReferences, namedUrls, reachability, registrationProblems, secretVariables } from '../../src/registry/registration-rules';

const base = validateConfig({ ...baseConfig, registry: { egress: { allowedHosts: ['*.example.com'], allowPrivate: ['127.0.0.1:4104'] }, env: { allowed: ['W_*', 'WIDGETS_*', 'H_*', 'B_*', 'O_*'] } } });
const dns: Record<string, string> = { 'api.example.com': '93.184.216.34', 'login.example.com': '93.184.216.35', 'sso.example.com': '10.0.0.9' };
const resolveHost: HostResolver = async (host) => {
  const address = dns[host];
  if (!address) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
  return [{ address, family: 4 }];
};

function source(auth: SourceDefinitionInput['auth'], baseUrl: SourceDefinitionInput['baseUrl'] = 'https://api.example.com/v1'): SourceDefinitionInput {
  return { baseUrl, auth, entities: { Widget: { key: 'id', fields: { id: 'id' }, lookups: { id: { path: '/widgets/{value}', unique: true } }, query: { one: 'widget', many: false, list: false } } } };
}

function document(sources: Record<string, SourceDefinitionInput>, mappings: Record<string, unknown> = {}): DefinitionDocument {
  return definitionDocument.parse({ sources, mappings });
}

const oauth = (overrides: Record<string, unknown> = {}): SourceDefinitionInput['auth'] =>
  ({ type: 'oauth2ClientCredentials', tokenUrl: '/oauth/token', clientId: 'widgets-client', clientSecret: { env: 'WIDGETS_SECRET' }, ...overrides }) as SourceDefinitionInput['auth'];

describe('what a source definition refers to', () => {
  it('lists every environment reference of every kind of auth, and marks the secrets', () => {
    const refs = (auth: SourceDefinitionInput['auth'], baseUrl?: SourceDefinitionInput['baseUrl']) =>
      envReferences(document({ w: source(auth, baseUrl) }).sources.w!, 'sources.w').map((reference) => [reference.path, reference.ref.env, reference.secret]);
    expect(refs({ type: 'none' }, { env: 'W_URL' })).toEqual([['sources.w.baseUrl', 'W_URL', false]]);
    expect(refs({ type: 'header', header: 'x-api-key', value: { env: 'W_KEY' } })).toEqual([['sources.w.auth.value', 'W_KEY', true]]);
    expect(refs({ type: 'bearer', token: { env: 'W_TOKEN' } })).toEqual([['sources.w.auth.token', 'W_TOKEN', true]]);
    expect(refs(oauth({ tokenUrl: { env: 'W_TOKEN_URL' }, clientId: { env: 'W_CLIENT' } }))).toEqual([
      ['sources.w.auth.tokenUrl', 'W_TOKEN_URL', false],
      ['sources.w.auth.clientId', 'W_CLIENT', false],
      ['sources.w.auth.clientSecret', 'WIDGETS_SECRET', true],
    ]);
    expect(secretVariables(document({ w: source(oauth()) }).sources.w!)).toEqual(['WIDGETS_SECRET']);
  });

  it('marks as secrets exactly the auth fields the format takes by environment reference only', () => {
    // Read from the format itself, so that a secret field added to it without a rule shows here.
    const envOnly = authDefinition.options.flatMap((option) =>
      Object.entries(option.shape)
        .filter(([, schema]) => schema === envRef)
        .map(([field]) => `${option.shape.type.value}.${field}`),
    );
    const marked = authDefinition.options.flatMap((option) => {
      const sample = Object.fromEntries(Object.keys(option.shape).map((field) => [field, field === 'type' ? option.shape.type.value : { env: 'X' }]));
      return envReferences({ baseUrl: 'https://api.example.com', auth: sample, entities: {} } as never, '').filter((reference) => reference.secret).map((reference) => `${sample.type}${reference.path.replace('.auth', '')}`);
    });
    expect(marked.sort()).toEqual(envOnly.sort());
    expect(envOnly.sort()).toEqual(['bearer.token', 'header.value', 'oauth2ClientCredentials.clientSecret']);
  });

  it('names every URL the gateway will call for a source', () => {
    expect(namedUrls(document({ w: source({ type: 'none' }) }).sources.w!, 'sources.w')).toEqual([{ path: 'sources.w.baseUrl', value: 'https://api.example.com/v1', relativeToBaseUrl: false }]);
    expect(namedUrls(document({ w: source(oauth()) }).sources.w!, 'sources.w').map((url) => url.path)).toEqual(['sources.w.baseUrl', 'sources.w.auth.tokenUrl']);
  });
});

describe('rules that need neither the environment nor the network', () => {
  const paths = (doc: DefinitionDocument) => registrationProblems(doc, base).map((problem) => problem.path);

  it('accepts secrets by environment reference, and settings with defaults', () => {
    expect(paths(document({ w: source(oauth({ clientId: { env: 'W_CLIENT', default: 'widgets' }, tokenUrl: { env: 'W_TOKEN_URL', default: '/oauth/token' } }), { env: 'W_URL', default: 'https://api.example.com' }) }))).toEqual([]);
  });

  it('refuses a default on the secret of every kind of auth, OAuth client secrets included', () => {
    const problems = registrationProblems(
      document({
        h: source({ type: 'header', header: 'x-api-key', value: { env: 'H_KEY', default: 'k' } }),
        b: source({ type: 'bearer', token: { env: 'B_TOKEN', default: 't' } }),
        o: source(oauth({ clientSecret: { env: 'O_SECRET', default: 's3cret' } })),
      }),
      base,
    );
    expect(problems.map((problem) => [problem.path, problem.message])).toEqual([
      ['sources.h.auth.value.default', "a default would store the secret in the registry in clear: remove it and set H_KEY in the gateway's environment"],
      ['sources.b.auth.token.default', "a default would store the secret in the registry in clear: remove it and set B_TOKEN in the gateway's environment"],
      ['sources.o.auth.clientSecret.default', "a default would store the secret in the registry in clear: remove it and set O_SECRET in the gateway's environment"],
    ]);
  });

  it('refuses a credential written into a query, a body, a base URL or a token URL', () => {
    const widget = source(oauth({ tokenUrl: 'https://login.example.com/token?client_secret=s3cret' }), 'https://api.example.com/v1?api_key=k&page=1');
    widget.entities.Widget!.lookups.id = { path: '/widgets/{value}', unique: true, query: { token: 'abc', id: '{value}' } };
    widget.entities.Widget!.lookups.name = { method: 'POST', path: '/widgets/search', unique: false, body: { filter: { password: 'pw', name: '{values}' } } };
    expect(paths(document({ w: widget }))).toEqual([
      'sources.w.baseUrl',
      'sources.w.auth.tokenUrl',
      'sources.w.entities.Widget.lookups.id.query.token',
      'sources.w.entities.Widget.lookups.name.body.filter.password',
    ]);
  });

  it('refuses changing what the configuration file declares, and a crosswalk file on the gateway host', () => {
    const mapping = { from: { entity: 'Customer', field: 'id' }, to: { entity: 'Widget', field: 'id' }, via: { kind: 'crosswalk', file: '/etc/passwd', columns: ['a', 'b'] }, forward: { field: 'widgets' } };
    expect(paths(document({ crm: source({ type: 'none' }) }, { customerOrders: mapping, customerWidgets: mapping }))).toEqual(['sources.crm', 'mappings.customerOrders', 'mappings.customerOrders.via.file', 'mappings.customerWidgets.via.file']);
  });
});

describe('whether a registered source can be called from here', () => {
  const check = (sources: Record<string, SourceDefinitionInput>, env: NodeJS.ProcessEnv = {}) => reachability(document(sources), { base, env, resolveHost });

  it('needs every variable a source names set, secrets and settings alike, each reported at its path', async () => {
    const result = await check({ o: source(oauth({ clientId: { env: 'O_CLIENT' }, tokenUrl: { env: 'O_TOKEN_URL' } }), { env: 'O_URL' }), ok: source(oauth()) }, { WIDGETS_SECRET: 's' });
    expect(result.problems.map((problem) => [problem.stage, problem.path, problem.message])).toEqual([
      ['environment', 'sources.o.baseUrl', "the environment variable O_URL is not set in the gateway's environment: set it on every replica, then register again"],
      ['environment', 'sources.o.auth.tokenUrl', expect.stringContaining('O_TOKEN_URL is not set')],
      ['environment', 'sources.o.auth.clientId', expect.stringContaining('O_CLIENT is not set')],
    ]);
    expect([...result.reachable]).toEqual(['ok']);
  });

  it('checks the token URL against the egress policy as well as the base URL, resolving a path against the base URL', async () => {
    const env = { WIDGETS_SECRET: 's' };
    expect(await check({ a: source(oauth({ tokenUrl: 'https://login.example.com/token' })), b: source(oauth()) }, env)).toEqual({ reachable: new Set(['a', 'b']), problems: [] });
    const refused = await check(
      {
        internal: source(oauth({ tokenUrl: 'https://sso.example.com/token' })),
        elsewhere: source(oauth({ tokenUrl: 'https://login.other.org/token' })),
        metadata: source(oauth({ tokenUrl: 'http://169.254.169.254/latest/meta-data' })),
        userinfo: source(oauth({ tokenUrl: 'https://id:pw@login.example.com/token' })),
      },
      env,
    );
    expect(refused.reachable).toEqual(new Set());
    expect(Object.fromEntries(refused.problems.map((problem) => [problem.path, `${problem.stage}: ${problem.message}`]))).toEqual({
      'sources.internal.auth.tokenUrl': expect.stringMatching(/^egress: sso\.example\.com resolves to 10\.0\.0\.9, a private address/),
      'sources.elsewhere.auth.tokenUrl': expect.stringMatching(/^egress: login\.other\.org:443 is not in registry\.egress\.allowedHosts/),
      'sources.metadata.auth.tokenUrl': expect.stringMatching(/^egress: 169\.254\.169\.254:80 is not in registry\.egress\.allowedHosts/),
      'sources.userinfo.auth.tokenUrl': 'egress: credentials do not belong in a token URL: declare auth with an environment reference',
    });
  });

  it('reports a refused base URL once, without resolving a token path against it', async () => {
    const result = await check({ w: source(oauth(), 'http://127.0.0.1:6379/') }, { WIDGETS_SECRET: 's' });
    expect(result.problems.map((problem) => [problem.stage, problem.path])).toEqual([['egress', 'sources.w.baseUrl']]);
    expect(result.reachable).toEqual(new Set());
  });

  it('lets a private host through only when allowPrivate lists it, and leaves the configuration file\'s own sources to the rules', async () => {
    expect(await check({ w: source({ type: 'none' }, 'http://127.0.0.1:4104/billing/v2'), crm: source({ type: 'none' }, 'http://10.0.0.1/') })).toEqual({ reachable: new Set(['w']), problems: [] });
  });
});
