/**
 * BAD_USER_INPUT comes from where the error is raised (the argument rules of validation, the
 * coercion of variables), never from what its message says: a message that reads like bad input
 * but comes from elsewhere keeps its own code, and argument errors with any wording are coded.
 */
import { makeExecutableSchema } from '@graphql-tools/schema';
import { createYoga } from 'graphql-yoga';
import { useBadUserInput } from '../../src/server/bad-user-input';

const yoga = createYoga({
  schema: makeExecutableSchema({
    typeDefs: /* GraphQL */ `
      input Filter {
        min: Int
      }
      type Query {
        count(filter: Filter): Int
        size(first: Int!): Int
        "Answers 1.5 for an Int: a serialization error whose message reads like bad input."
        broken: Int
      }
    `,
    resolvers: { Query: { count: () => 1, size: (_: unknown, { first }: { first: number }) => first, broken: () => 1.5 } },
  }),
  plugins: [useBadUserInput()],
  logging: false,
  maskedErrors: false,
});

async function post(query: string, variables?: Record<string, unknown>, accept = 'application/graphql-response+json') {
  const response = await yoga.fetch('http://yoga/graphql', { method: 'POST', headers: { 'content-type': 'application/json', accept }, body: JSON.stringify({ query, variables }) });
  const body = (await response.json()) as { data?: unknown; errors?: Array<{ message: string; extensions?: { code?: string } }> };
  return { status: response.status, body, codes: body.errors?.map((error) => error.extensions?.code) };
}

describe('useBadUserInput', () => {
  it('codes every report of the argument rules, whatever its wording', async () => {
    // "is not defined by type": a report of ValuesOfCorrectTypeRule no message pattern listed.
    const unknownField = await post('{ count(filter: { max: 3 }) }');
    expect(unknownField.body.errors?.[0]?.message).toMatch(/Field "max" is not defined by type "Filter"/);
    expect(unknownField.codes).toEqual(['BAD_USER_INPUT']);
    expect(unknownField.status).toBe(400);
    expect((await post('{ size }')).codes).toEqual(['BAD_USER_INPUT']);
    expect((await post('query($n: String) { size(first: $n) }', { n: '1' })).codes).toEqual(['BAD_USER_INPUT']);
  });

  it("leaves the other validation rules to yoga's GRAPHQL_VALIDATION_FAILED", async () => {
    const response = await post('{ nope }');
    expect(response.codes).toEqual(['GRAPHQL_VALIDATION_FAILED']);
  });

  it('codes the variables execution cannot coerce, with the status of a refused request, and runs nothing', async () => {
    for (const accept of ['application/json', 'application/graphql-response+json']) {
      const response = await post('query($n: Int!) { size(first: $n) }', { n: 'seven' }, accept);
      expect(response.codes).toEqual(['BAD_USER_INPUT']);
      expect(response.body.errors?.[0]?.message).toMatch(/Variable "\$n" got invalid value "seven"/);
      expect(response.body.data).toBeUndefined();
      expect(response.status).toBe(400);
    }
    expect((await post('query($n: Int!) { size(first: $n) }', { n: 7 })).body.data).toEqual({ size: 7 });
  });

  it('does not take a serialization failure for bad input because its message reads like one', async () => {
    const response = await post('{ broken }');
    expect(response.body.errors?.[0]?.message).toMatch(/Int cannot represent non-integer value: 1\.5/);
    expect(response.codes).not.toContain('BAD_USER_INPUT');
  });
});
