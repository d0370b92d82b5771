import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sourceDefinition, type SourceDefinitionInput } from '../../src/config/definition';
import { isSourceError } from '../../src/connectors/errors';
import { SourceConnector } from '../../src/connectors/source-connector';
import { PROJECT_ROOT } from '../support/harness';
import { STRIPE_KEY, startStripe, stripeData, type StripeFixture } from '../support/vendors/stripe';

const example = JSON.parse(readFileSync(join(PROJECT_ROOT, 'examples/stripe/definition.json'), 'utf8')) as { sources: { stripe: SourceDefinitionInput } };

let stripe: StripeFixture;
beforeAll(async () => {
  stripe = await startStripe(stripeData(20));
});
afterAll(async () => {
  delete process.env.STRIPE_SECRET_KEY;
  await stripe.close();
});
beforeEach(() => stripe.reset());

function connector(edit: (lookup: Record<string, unknown>) => void = () => undefined): SourceConnector {
  const definition = structuredClone(example.sources.stripe) as unknown as Record<string, any>;
  definition.baseUrl = `${stripe.origin}/v1`;
  process.env.STRIPE_SECRET_KEY = STRIPE_KEY;
  edit(definition.entities.StripeCharge.lookups.customerId);
  return new SourceConnector('stripe', sourceDefinition.parse(definition));
}

describe('a lookup that declares which error answers mean no record (notFound)', () => {
  it("finds no charges for a customer Stripe does not know (400 resource_missing), one call, and a known customer's charges", async () => {
    const stripeConnector = connector();
    try {
      const known = stripe.customers[3]!.id;
      const found = await stripeConnector.lookup('StripeCharge', 'customerId', [known, 'cus_Unknown000000']);
      expect((found.get(known) as Array<{ id: unknown }>).map((c) => c.id)).toEqual(stripe.chargesOf(known).map((c) => c.id));
      expect(found.get('cus_Unknown000000') ?? []).toEqual([]);
      expect(stripe.calls()).toEqual({ 'GET /v1/charges': 2 });
      expect(stripe.log.map((call) => call.status).sort()).toEqual([200, 400]);
    } finally {
      await stripeConnector.close();
    }
  });

  it('without notFound the same 400 fails the lookup with a coded source error', async () => {
    const stripeConnector = connector((lookup) => delete lookup.notFound);
    try {
      const failure = await stripeConnector.lookup('StripeCharge', 'customerId', ['cus_Unknown000000']).then((found) => found.get('cus_Unknown000000'), (error: unknown) => error);
      expect(isSourceError(failure)).toBe(true);
      expect((failure as { code: string }).code).toBe('SOURCE_REJECTED_REQUEST');
    } finally {
      await stripeConnector.close();
    }
  });

  it('a 400 with another code is still a failure', async () => {
    const stripeConnector = connector((lookup) => { lookup.notFound = { status: [400], codePath: 'error.code', codes: ['no_such_thing'] }; });
    try {
      const failure = await stripeConnector.lookup('StripeCharge', 'customerId', ['cus_Unknown000000']).then((found) => found.get('cus_Unknown000000'), (error: unknown) => error);
      expect(isSourceError(failure)).toBe(true);
    } finally {
      await stripeConnector.close();
    }
  });

  it('is refused on a batch lookup and when codePath comes without codes, saying what to do', () => {
    const lookup = { path: '/x', query: { id: '{values}' }, unique: true, batch: { maxSize: 10 }, notFound: { status: [400] } };
    const parsed = sourceDefinition.safeParse({ baseUrl: 'http://127.0.0.1:1', entities: { A: { key: 'id', fields: { id: 'id' }, lookups: { id: lookup } } } });
    expect(parsed.success).toBe(false);
    expect(JSON.stringify(parsed.error?.issues)).toContain('remove batch or declare itemErrors');
    const half = { path: '/x/{value}', unique: true, notFound: { status: [400], codePath: 'error.code' } };
    const parsed2 = sourceDefinition.safeParse({ baseUrl: 'http://127.0.0.1:1', entities: { A: { key: 'id', fields: { id: 'id' }, lookups: { id: half } } } });
    expect(parsed2.success).toBe(false);
    expect(JSON.stringify(parsed2.error?.issues)).toContain('codePath and codes go together');
  });
});
