/**
 * The access model and the walk, without a server: what `schema/` and the source definitions
 * declare, read once per generation; each field a document selects found by its coordinate
 * whatever path reaches it (aliases, fragments, inline fragments, joins), in one linear pass;
 * the document without the denied fields; the answer with them put back as null with FORBIDDEN.
 */
import { GraphQLError, parse, print, type FieldNode } from 'graphql';
import baseConfig from '../../virtualization.config';
import { allows, AuthDirectiveError, type AccessModel } from '../../src/auth/access-model';
import type { Caller } from '../../src/auth/caller';
import { deniedFields, surveyDocument, withoutDenied } from '../../src/auth/document-access';
import { withForbiddenFields } from '../../src/auth/forbidden-answer';
import { accessModelOf } from '../../src/auth/generation-access';
import { maskValue } from '../../src/auth/masking';
import { modelBasis, partitionOf, PolicyDecisions } from '../../src/auth/policies';
import { validateConfig } from '../../src/config/validate';
import type { VirtualizationConfig } from '../../src/config/definition';
import type { Gateway } from '../../src/federation/gateway';
import { createGeneration } from '../../src/runtime/generations';
import { billingDocument } from '../support/billing';
import { PROJECT_ROOT } from '../support/harness';

const ALL = ['customers:read', 'orders:read', 'tickets:read', 'pii:read', 'billing:read'];
const LIMITED = ['customers:read', 'orders:read'];

function caller(scopes: readonly string[], kind: Caller['kind'] = 'apiKey'): Caller {
  return { kind, clientId: `key:${scopes.join('+')}`, subject: undefined, tenant: 'acme', keyId: 'k', issuer: undefined, scopes: new Set(scopes), claims: {} };
}

function withBilling(config: VirtualizationConfig): VirtualizationConfig {
  const billing = billingDocument();
  return validateConfig({ ...baseConfig, sources: { ...baseConfig.sources, ...billing.sources }, mappings: { ...baseConfig.mappings, ...billing.mappings } } as never) ?? config;
}

const ENV = { ...process.env, BILLING_API_KEY: 'unit-test' };
let gateway: Gateway;
let model: AccessModel;
beforeAll(async () => {
  gateway = await createGeneration(withBilling(validateConfig(baseConfig)), { baseDir: PROJECT_ROOT, env: ENV });
  model = accessModelOf(gateway);
});
afterAll(() => gateway?.close());

function denied(query: string, scopes: readonly string[], operationName?: string): string[] {
  const access = surveyDocument(model, gateway.schema, parse(query), operationName);
  return deniedFields(access, caller(scopes), new Map()).map((field) => field.coordinate);
}

describe('the access model of a generation', () => {
  it('reads the shared scopes from schema/ and from the billing definition', () => {
    expect(model.rulesOf('Query', 'customer').flatMap((rule) => rule.scopes ?? [])).toContainEqual(['customers:read']);
    // A join returns the type it joins to: Order.customer needs what a Customer needs.
    expect(model.rulesOf('Order', 'customer').flatMap((rule) => rule.scopes ?? [])).toEqual(expect.arrayContaining([['orders:read'], ['customers:read']]));
    expect(model.masks.get('Customer.email')).toEqual({ rule: 'EMAIL', unmaskScope: 'pii:read' });
    // billing:read on the source covers its type, its roots, and the joins and summaries onto it.
    for (const [type, field] of [['Query', 'invoice'], ['Query', 'invoices'], ['Customer', 'invoices'], ['Customer', 'openBalance'], ['Invoice', 'amountDue']] as const) {
      expect(model.rulesOf(type, field).flatMap((rule) => rule.scopes ?? [])).toContainEqual(['billing:read']);
    }
    expect([...model.scopes].sort()).toEqual([...ALL].sort());
  });

  it('refuses a mask that does not fit its field', async () => {
    const billing = billingDocument();
    const invoice = billing.sources.billing!.entities.Invoice!;
    invoice.fields.id = { from: 'id', transform: 'id', mask: { rule: 'HIDDEN' } };
    const config = validateConfig({ ...baseConfig, sources: { ...baseConfig.sources, ...billing.sources } } as never);
    await expect(createGeneration(config, { baseDir: PROJECT_ROOT, env: ENV })).rejects.toThrow(AuthDirectiveError);
  });
});

describe('the walk', () => {
  it('finds a field by its coordinate through aliases, fragments, inline fragments and joins', () => {
    const direct = '{ ticket(id: "t1") { subject } }';
    expect(denied(direct, LIMITED)).toEqual(['Query.ticket', 'Ticket.subject']);
    const tricks = [
      '{ mine: customer(id: "c") { name theirs: tickets { subject } } }',
      '{ customer(id: "c") { ...T } } fragment T on Customer { tickets { id } }',
      '{ customer(id: "c") { ... on Customer { tickets { id } } } }',
      '{ order(id: "o") { customer { tickets { id } } } }',
    ];
    for (const query of tricks) expect(denied(query, LIMITED)).toContain('Customer.tickets');
    expect(denied(tricks[3]!, ALL)).toEqual([]);
    // The direct path to the order is allowed; the back-join to the customer needs customers:read.
    expect(denied('{ order(id: "o") { id customer { name } } }', ['orders:read'])).toEqual(['Order.customer', 'Customer.name']);
  });

  it('reads each fragment once, so nested fragments cost their length, not their expansion', () => {
    const depth = 40;
    const fragments = Array.from({ length: depth }, (_, i) =>
      i === depth - 1 ? `fragment F${i} on Customer { tickets { id } }` : `fragment F${i} on Customer { name ...F${i + 1} ...F${i + 1} }`,
    );
    const query = `{ customer(id: "c") { ...F0 } } ${fragments.join(' ')}`;
    const access = surveyDocument(model, gateway.schema, parse(query), undefined);
    // 2^40 paths if expanded; one per fragment here.
    expect(access.guarded.get('Customer.name')!.paths.length).toBeLessThanOrEqual(5);
    expect(deniedFields(access, caller(LIMITED), new Map()).map((field) => field.coordinate)).toEqual(['Customer.tickets', 'Ticket.id']);
  });

  it('decides only the operation asked for', () => {
    const query = 'query A { customer(id: "c") { name } } query B { ticket(id: "t") { id } }';
    expect(denied(query, LIMITED, 'A')).toEqual([]);
    expect(denied(query, LIMITED, 'B')).toEqual(['Query.ticket', 'Ticket.id']);
  });

  it('takes the outer list as OR and the inner as AND; an undecided policy denies', () => {
    const rules = [{ authenticated: false, scopes: [['a', 'b'], ['c']], policies: undefined }];
    expect(allows(rules, caller(['a']), new Map())).toBe(false);
    expect(allows(rules, caller(['a', 'b']), new Map())).toBe(true);
    expect(allows(rules, caller(['c']), new Map())).toBe(true);
    const policy = [{ authenticated: true, scopes: undefined, policies: [['sameTenant']] }];
    expect(allows(policy, caller([]), new Map([['sameTenant', true]]))).toBe(true);
    expect(allows(policy, caller([]), new Map())).toBe(false);
    expect(allows(policy, caller([], 'anonymous'), new Map([['sameTenant', true]]))).toBe(false);
  });
});

describe('policies and partitions', () => {
  it('decides each policy once per request; a missing or throwing decider denies', async () => {
    let asked = 0;
    const decisions = new PolicyDecisions(
      {
        sameTenant: (who) => {
          asked += 1;
          return who.tenant === 'acme';
        },
        broken: () => {
          throw new Error('directory down');
        },
        later: async () => Promise.resolve(true),
      },
      caller([]),
    );
    const first = await decisions.outcomes(['sameTenant', 'broken', 'unknown', 'later']);
    const second = await decisions.outcomes(['sameTenant']);
    expect(Object.fromEntries(first)).toEqual({ sameTenant: true, broken: false, unknown: false, later: true });
    expect(second.get('sameTenant')).toBe(true);
    expect(asked).toBe(1);
  });

  it('depends on what shapes the answer of the operation only', () => {
    const survey = (query: string) => surveyDocument(model, gateway.schema, parse(query), undefined);
    const names = survey('{ customer(id: "c") { name } }');
    const emails = survey('{ customer(id: "c") { email } }');
    const full = caller(ALL);
    const limited = caller([...LIMITED, 'unrelated:scope']);
    // The name is shown alike to both: one partition; the email is masked for one of them: two.
    expect(partitionOf(names, limited, new Map())).toBe(partitionOf(names, full, new Map()));
    expect(partitionOf(emails, limited, new Map())).not.toBe(partitionOf(emails, full, new Map()));
    expect(partitionOf(emails, limited, new Map())).toBe(partitionOf(emails, caller(LIMITED), new Map()));
    expect(partitionOf(names, full, new Map([['p', true]]))).not.toBe(partitionOf(names, full, new Map([['p', false]])));
    // Introspection reads the whole model.
    expect(partitionOf(modelBasis(model), limited, new Map())).not.toBe(partitionOf(modelBasis(model), full, new Map()));
  });

  it('is per caller for an answer from a source that forwards its caller', async () => {
    const base = validateConfig(baseConfig);
    const config = validateConfig({ ...baseConfig, sources: { ...baseConfig.sources, support: { ...baseConfig.sources.support!, forwardCaller: { header: 'x-user-token' } } } } as never);
    const forwarding = await createGeneration(config ?? base, { baseDir: PROJECT_ROOT, env: ENV });
    try {
      const perCaller = accessModelOf(forwarding);
      const survey = (query: string) => surveyDocument(perCaller, forwarding.schema, parse(query), undefined);
      const alike = [caller(ALL), { ...caller(ALL), clientId: 'key:other' }];
      const tickets = survey('{ customer(id: "c") { tickets { id } } }');
      expect(tickets.perCaller).toBe(true);
      expect(partitionOf(tickets, alike[0]!, new Map())).not.toBe(partitionOf(tickets, alike[1]!, new Map()));
      const names = survey('{ customer(id: "c") { name } }');
      expect(partitionOf(names, alike[0]!, new Map())).toBe(partitionOf(names, alike[1]!, new Map()));
    } finally {
      await forwarding.close();
    }
  });
});

describe('filter mode', () => {
  const forbidden = (coordinate: string, path: readonly (string | number)[], node: FieldNode) => new GraphQLError(`no ${coordinate}`, { path, nodes: node, extensions: { code: 'X' } });

  it('takes denied fields out of the document, and an emptied selection keeps __typename', () => {
    const document = parse('{ customer(id: "c") { name ...T tickets { id } } } fragment T on Customer { email tickets { subject } }');
    const access = surveyDocument(model, gateway.schema, document, undefined);
    const filtered = withoutDenied(gateway.schema, document, access.operation!, new Set(['Customer.tickets']));
    expect(print(filtered).replace(/\s+/g, ' ')).toBe('{ customer(id: "c") { name ...T } } fragment T on Customer { email }');
    const small = parse('{ customer(id: "c") { tickets { id } } }');
    const emptied = withoutDenied(gateway.schema, small, surveyDocument(model, gateway.schema, small, undefined).operation!, new Set(['Customer.tickets']));
    expect(print(emptied).replace(/\s+/g, ' ')).toBe('{ customer(id: "c") { __typename } }');
  });

  it('puts each denied key back as null, in selection order, with an error at every list element', () => {
    const document = parse('query($skip: Boolean = true) { customers(first: 2) { nodes { name tickets { id } ...C } } } fragment C on Customer { openTicketCount @skip(if: $skip) id }');
    const access = surveyDocument(model, gateway.schema, document, undefined);
    const data = { customers: { nodes: [{ name: 'A', id: '1' }, { name: 'B', id: '2' }] } };
    const answer = withForbiddenFields(
      { data },
      { schema: gateway.schema, document, operation: access.operation!, variables: { skip: true }, denied: new Set(['Customer.tickets']), errorAt: forbidden },
    );
    const nodes = (answer.data as typeof data).customers.nodes;
    expect(nodes.map((node) => Object.keys(node))).toEqual([
      ['name', 'tickets', 'id'],
      ['name', 'tickets', 'id'],
    ]);
    expect(nodes.map((node) => (node as Record<string, unknown>).tickets)).toEqual([null, null]);
    expect(answer.errors!.map((error) => error.path)).toEqual([
      ['customers', 'nodes', 0, 'tickets'],
      ['customers', 'nodes', 1, 'tickets'],
    ]);
  });
});

describe('masking rules', () => {
  it('shows enough to recognise and never the value', () => {
    expect(maskValue('EMAIL', 'john.doe@example.com')).toBe('j***@example.com');
    expect(maskValue('EMAIL', 'not-an-email')).toBe('***');
    expect(maskValue('PHONE_LAST4', '+1 (415) 555-1234')).toBe('***-***-1234');
    expect(maskValue('HIDDEN', 42.5)).toBeNull();
    expect(maskValue('EMAIL', null)).toBeNull();
    expect(maskValue('EMAIL', ['ab@x.io', 'cd@y.io'])).toEqual(['a***@x.io', 'c***@y.io']);
  });
});
