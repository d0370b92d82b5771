import type { Plugin } from 'graphql-yoga';
import { GraphQLError, specifiedRules, type ASTVisitor, type ValidationContext, type ValidationRule } from 'graphql';

/**
 * An operation of a type the schema does not have (the gateway serves queries; it has no mutation
 * or subscription type) is refused when the document is validated, as graphql-js 17's
 * `KnownOperationTypesRule` refuses it, and so carries yoga's `GRAPHQL_VALIDATION_FAILED` like
 * every other validation failure. graphql-js 16 leaves it to execution, which answers it with no
 * code at all, over JSON and over server-sent events alike.
 */
export function knownOperationTypesRule(context: ValidationContext): ASTVisitor {
  const schema = context.getSchema();
  return {
    OperationDefinition(node) {
      if (schema.getRootType(node.operation)) return;
      context.reportError(new GraphQLError(`This API has no ${node.operation} type: it serves queries only (write the operation as a query, or send it to the system that owns the data).`, { nodes: node }));
    },
  };
}

export function useKnownOperationTypes(): Plugin {
  return {
    onValidate({ validateFn, setValidationFn }) {
      setValidationFn((schema, document, rules, typeInfo, options) => validateFn(schema, document, [...(rules ?? specifiedRules), knownOperationTypesRule as ValidationRule], typeInfo, options));
    },
  };
}
