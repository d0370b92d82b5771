import type { Plugin } from 'graphql-yoga';
import { GraphQLError } from 'graphql';

/**
 * Argument values that do not fit their type ("Int cannot represent...", an unknown enum value, a
 * missing required argument, a variable declared with a type its argument does not take) are the
 * caller's mistake: they get `BAD_USER_INPUT`, the code clients already branch on, instead of a
 * generic validation failure. The message is kept: it says what is wrong and where.
 */
const ARGUMENT_PROBLEMS = [
  /cannot represent/i,
  /Expected value of type/i,
  /Value ".*" does not exist in ".*" enum/i,
  /argument ".*" of type ".*" is required/i,
  /Variable "\$.*" got invalid value/i,
  /Variable "\$.*" of required type/i,
  /Variable "\$.*" of non-null type/i,
  /Variable "\$.*" of type ".*" used in position expecting type/i,
];

export function isArgumentProblem(message: string): boolean {
  return ARGUMENT_PROBLEMS.some((pattern) => pattern.test(message));
}

function relabel(error: GraphQLError): GraphQLError {
  if (!isArgumentProblem(error.message)) return error;
  return new GraphQLError(error.message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    originalError: error.originalError,
    extensions: { ...error.extensions, code: 'BAD_USER_INPUT', http: { status: 400 } },
  });
}

export function useBadUserInput(): Plugin {
  return {
    onValidate() {
      return ({ result, setResult }) => {
        if (result.length > 0) setResult(result.map((error) => (error instanceof GraphQLError ? relabel(error) : error)));
      };
    },
    onExecute() {
      return {
        onExecuteDone({ result, setResult }) {
          if ('errors' in result && result.errors?.length) {
            setResult({ ...result, errors: result.errors.map((error) => (error instanceof GraphQLError ? relabel(error) : error)) });
          }
        },
      };
    },
  };
}
