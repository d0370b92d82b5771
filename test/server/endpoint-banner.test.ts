import { endpointBanner } from '../../src/server/graphiql-page';

// The start line names GraphiQL only where the page opens for everyone; a production start
// (where a browser gets 404 GRAPHIQL_DISABLED) points at the GraphQL URL and says why.
describe('the start banner', () => {
  const url = 'http://127.0.0.1:4000';

  it('names GraphiQL outside production and where it is turned on', () => {
    expect(endpointBanner(url, {}, false)).toBe('GraphiQL at http://127.0.0.1:4000/graphql');
    expect(endpointBanner(url, { enabled: true }, true)).toBe('GraphiQL at http://127.0.0.1:4000/graphql');
  });

  it('says GraphiQL is off in production, and which scope opens it', () => {
    expect(endpointBanner(url, {}, true)).toBe('GraphQL at http://127.0.0.1:4000/graphql (GraphiQL off in production: auth.graphiql.enabled)');
    expect(endpointBanner(url, { scope: 'graphiql:open' }, true)).toBe(
      'GraphQL at http://127.0.0.1:4000/graphql (GraphiQL off in production: auth.graphiql.enabled, or a caller holding graphiql:open)',
    );
  });

  it('says so when the configuration turns it off', () => {
    expect(endpointBanner(url, { enabled: false }, false)).toBe('GraphQL at http://127.0.0.1:4000/graphql (GraphiQL off: auth.graphiql.enabled is false)');
  });
});
