import type { Plugin } from 'graphql-yoga';
import {
  getOperationAST,
  getVariableValues,
  GraphQLError,
  ProvidedRequiredArgumentsRule,
  specifiedRules,
  ValuesOfCorrectTypeRule,
  VariablesInAllowedPositionRule,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
import { CODES, toGraphQLError, VirtualizeError, type ErrorPhase } from '../errors';

/**
 * Argument values that do not fit their type ("Int cannot represent...", an unknown enum value, a
 * missing required argument, a variable declared with a type its argument does not take, a
 * variable value that does not coerce) are the caller's mistake: they get `BAD_USER_INPUT`, the
 * code clients already branch on, instead of a generic validation failure. The message is kept:
 * it says what is wrong and where.
 *
 * The code comes from where the error is raised, never from its text:
 *
 * - validation: the graphql-js rules whose every report is about an argument's value report
 *   through a context that codes what they report; every other rule's reports stay
 *   `GRAPHQL_VALIDATION_FAILED` (yoga's code);
 * - execution: variables are coerced with graphql-js's own `getVariableValues`, as execution is
 *   about to; when they do not fit, execution answers those errors, coded, and runs no resolver.
 */
const ARGUMENT_RULES: ReadonlySet<ValidationRule> = new Set([ValuesOfCorrectTypeRule, ProvidedRequiredArgumentsRule, VariablesInAllowedPositionRule]);

function badUserInput(error: GraphQLError, phase: ErrorPhase): GraphQLError {
  return toGraphQLError(new VirtualizeError(CODES.BAD_USER_INPUT, error.message), { phase, nodes: error.nodes });
}

/** The rule, reporting through a context that codes each report as the caller's mistake. */
function reportingBadUserInput(rule: ValidationRule): ValidationRule {
  const coded: ValidationRule = (context) => {
    // The rule reads everything else (schema, type info, fragments) from the real context.
    const reporting: ValidationContext = Object.create(context) as ValidationContext;
    reporting.reportError = (error: GraphQLError) => context.reportError(badUserInput(error, 'document'));
    return rule(reporting);
  };
  Object.defineProperty(coded, 'name', { value: rule.name });
  return coded;
}

const coded = new Map<ValidationRule, ValidationRule>([...ARGUMENT_RULES].map((rule) => [rule, reportingBadUserInput(rule)]));

export function useBadUserInput(): Plugin {
  return {
    onValidate({ validateFn, setValidationFn }) {
      setValidationFn((schema, document, rules, typeInfo, options) =>
        validateFn(schema, document, (rules ?? specifiedRules).map((rule: ValidationRule) => coded.get(rule) ?? rule), typeInfo, options),
      );
    },
    onExecute({ args, setExecuteFn }) {
      const operation = getOperationAST(args.document, args.operationName);
      if (!operation?.variableDefinitions?.length) return;
      const coercion = getVariableValues(args.schema, operation.variableDefinitions, args.variableValues ?? {});
      // What execution would answer itself, coded: the other plugins still see an execution.
      if (coercion.errors) setExecuteFn(() => ({ errors: coercion.errors.map((error) => badUserInput(error, 'request')) }));
    },
  };
}
