import { GraphQLError, parse } from 'graphql';
import { SourceError } from '../../src/connectors/errors';
import { CODES, ERROR_CODES, isErrorCode, refusalBody, toGraphQLError, VirtualizeError } from '../../src/errors';

describe('the code table', () => {
  it('names each code by itself, and every status is an HTTP status or null', () => {
    for (const [code, entry] of Object.entries(ERROR_CODES)) {
      expect(CODES[code as keyof typeof CODES]).toBe(code);
      expect(code).toMatch(/^[A-Z][A-Z_]+$/);
      if (entry.status !== null) expect(entry.status >= 200 && entry.status < 600).toBe(true);
      expect(entry.meaning.length).toBeGreaterThan(10);
    }
    expect(isErrorCode('THROTTLED')).toBe(true);
    expect(isErrorCode('toString')).toBe(false);
  });
});

describe('VirtualizeError', () => {
  it('keeps a stable code, its data and a default message (the meaning of its code)', () => {
    const error = new VirtualizeError(CODES.THROTTLED);
    expect(error.code).toBe('THROTTLED');
    expect(error.message).toBe(ERROR_CODES.THROTTLED.meaning);
    expect(error.httpStatus).toBe(429);
    expect(error.retryable).toBe(true);
    expect(error.name).toBe('VirtualizeError');
    expect(error).toBeInstanceOf(Error);
  });

  it('is the base of the rooms’ own errors', () => {
    const error = new SourceError(CODES.SOURCE_TIMEOUT, 'orders', 'GET /orders', 'Source orders did not answer', 504);
    expect(error).toBeInstanceOf(VirtualizeError);
    expect(error.data).toEqual({ source: 'orders', route: 'GET /orders' });
    expect(error.status).toBe(504);
    expect(error.retryable).toBe(true);
  });
});

describe('toGraphQLError', () => {
  const nodes = parse('{ a }').definitions;

  it('gives the code, then the data fields, then the HTTP status the answer takes', () => {
    const mapped = toGraphQLError(new VirtualizeError(CODES.THROTTLED, 'wait', { retryAfterSeconds: 2 }, { headers: { 'retry-after': '2' } }));
    expect(mapped.message).toBe('wait');
    expect(mapped.extensions).toEqual({ code: 'THROTTLED', retryAfterSeconds: 2, http: { status: 429, headers: { 'retry-after': '2' } } });
    expect(Object.keys(mapped.extensions)).toEqual(['code', 'retryAfterSeconds', 'http']);
    // Not masked by yoga: no originalError that is not a GraphQL error.
    expect(mapped.originalError).toBeUndefined();
  });

  it('marks refusals before execution for the GraphQL over HTTP rules, and leaves a failed field at 200', () => {
    expect(toGraphQLError(new VirtualizeError(CODES.DEPTH_LIMIT_EXCEEDED, 'deep')).extensions.http).toEqual({ status: 400, spec: true });
    expect(toGraphQLError(new VirtualizeError(CODES.BAD_USER_INPUT, 'bad')).extensions.http).toEqual({ status: 400 });
    expect(toGraphQLError(new VirtualizeError(CODES.BAD_USER_INPUT, 'bad'), { phase: 'document' }).extensions.http).toEqual({ status: 400, spec: true });
    expect(toGraphQLError(new VirtualizeError(CODES.BAD_USER_INPUT, 'bad', { argument: 'first' }), { phase: 'field' }).extensions).toEqual({ code: 'BAD_USER_INPUT', argument: 'first' });
    expect(toGraphQLError(new SourceError(CODES.SOURCE_UNAVAILABLE, 'crm', 'GET /x', 'down')).extensions).toEqual({ code: 'SOURCE_UNAVAILABLE', source: 'crm', route: 'GET /x' });
  });

  it('takes the status of one raise over its code’s', () => {
    expect(toGraphQLError(new VirtualizeError(CODES.BAD_USER_INPUT, 'media type', {}, { status: 415 })).extensions.http).toEqual({ status: 415 });
  });

  it('finds a virtualize error that graphql-js located, and keeps its place', () => {
    const located = new GraphQLError('wrapped', { nodes, path: ['a'], originalError: new VirtualizeError(CODES.FORBIDDEN, 'no scope') });
    const mapped = toGraphQLError(located);
    expect(mapped.message).toBe('no scope');
    expect(mapped.path).toEqual(['a']);
    expect(mapped.nodes).toHaveLength(1);
    expect(mapped.extensions.code).toBe('FORBIDDEN');
  });

  it('returns other GraphQL errors as they are, and masks anything unforeseen', () => {
    const plain = new GraphQLError('plain', { extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } });
    expect(toGraphQLError(plain)).toBe(plain);
    const cause = new Error('connect ECONNREFUSED http://secret@host');
    const masked = toGraphQLError(cause);
    expect(masked.message).toBe('Unexpected error.');
    expect(masked.extensions).toEqual({ code: 'INTERNAL_SERVER_ERROR', unexpected: true });
    expect(masked.originalError).toBe(cause);
    expect(toGraphQLError('a string').originalError?.message).toBe('a string');
  });
});

describe('refusalBody', () => {
  it('answers in the shape GraphQL clients read, with the status and headers of the refusal', () => {
    const refusal = refusalBody(new VirtualizeError(CODES.REQUEST_TOO_LARGE, 'too big', { limit: 10 }));
    expect(refusal.status).toBe(413);
    expect(JSON.parse(refusal.body)).toEqual({ errors: [{ message: 'too big', extensions: { code: 'REQUEST_TOO_LARGE', limit: 10 } }] });
  });
});
