/**
 * The one mapper stands in front of yoga's masking: an error raised on purpose reaches the client
 * with its code and data wherever it was thrown; anything else is masked as yoga masks it.
 */
import { makeExecutableSchema } from '@graphql-tools/schema';
import { createYoga } from 'graphql-yoga';
import { CODES, VirtualizeError } from '../../src/errors';
import { maskErrors } from '../../src/server/mask-errors';

const yoga = createYoga({
  schema: makeExecutableSchema({
    typeDefs: 'type Query { refused: Int, fine: Int, broken: Int }',
    resolvers: {
      Query: {
        refused: () => {
          throw new VirtualizeError(CODES.SOURCE_UNAVAILABLE, 'Source crm is unavailable', { source: 'crm', route: 'GET /x' });
        },
        fine: () => 1,
        broken: () => {
          throw new Error('connect ECONNREFUSED https://user:secret@crm.internal/x');
        },
      },
    },
  }),
  maskedErrors: maskErrors,
  logging: false,
});

async function post(query: string) {
  const response = await yoga.fetch('http://yoga/graphql', { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' }, body: JSON.stringify({ query }) });
  return { status: response.status, body: (await response.json()) as { data?: Record<string, unknown>; errors?: Array<{ message: string; path?: string[]; extensions?: Record<string, unknown> }> } };
}

describe('maskErrors', () => {
  it('shows an error raised on purpose in a resolver with its code and data, at its field, in a 200', async () => {
    const { status, body } = await post('{ refused fine }');
    expect(status).toBe(200);
    expect(body.data).toEqual({ refused: null, fine: 1 });
    expect(body.errors).toEqual([{ message: 'Source crm is unavailable', path: ['refused'], locations: [{ line: 1, column: 3 }], extensions: { code: 'SOURCE_UNAVAILABLE', source: 'crm', route: 'GET /x' } }]);
  });

  it('masks anything else as yoga does, so no URL or credential leaves the gateway', async () => {
    const { body } = await post('{ broken }');
    expect(body.errors?.[0]?.message).toBe('Unexpected error.');
    expect(body.errors?.[0]?.extensions?.code).toBe('INTERNAL_SERVER_ERROR');
    expect(JSON.stringify(body)).not.toContain('secret');
  });

  it('refuses a body that is not JSON without quoting it back', async () => {
    const response = await yoga.fetch('http://yoga/graphql', { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' }, body: '{"query": "{ fine }", "variables": {"token": "sk_live_secret' });
    const text = await response.text();
    expect(response.status).toBe(400);
    expect(JSON.parse(text)).toEqual({ errors: [{ message: 'POST body sent invalid JSON.', extensions: { code: 'BAD_REQUEST' } }] });
    expect(text).not.toContain('sk_live_secret');
  });
});
