import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import { Kind, NoFragmentCyclesRule, type GraphQLError, type ValidationContext, type ValidationRule } from 'graphql';
import type { ShapeLimits } from '../config/definition';
import { describeCount, ExpandedSize } from './expanded-size';
import { fragmentCycle, shapeLimitExceeded } from './guard-errors';

type DocumentLimit = 'depth' | 'aliases' | 'directives';

/** GraphQL Armor reports with a generic error; each limit is reported with its own code instead. */
function armorOptions(limit: DocumentLimit, n: number) {
  return {
    n,
    propagateOnRejection: false,
    onReject: [(context: ValidationContext | null, error: GraphQLError) => context?.reportError(shapeLimitExceeded(limit, n, error.message))],
  };
}

const maxFragmentsRule =
  (n: number): ValidationRule =>
  (context) => ({
    Document(document) {
      const found = document.definitions.filter((definition) => definition.kind === Kind.FRAGMENT_DEFINITION).length;
      if (found > n) context.reportError(shapeLimitExceeded('fragments', n, `Fragments limit of ${n} exceeded, found ${found}.`));
    },
  });

/** Selections of each operation once its fragments are spread, counted without spreading them (see ExpandedSize). */
const maxExpandedSelectionsRule =
  (n: number): ValidationRule =>
  (context) => {
    const size = new ExpandedSize((name) => context.getFragment(name));
    return {
      OperationDefinition(operation) {
        const found = size.of(operation.selectionSet);
        if (found > n) {
          const name = operation.name ? `Operation ${operation.name.value}` : 'The operation';
          context.reportError(shapeLimitExceeded('expandedSelections', n, `${name} has ${describeCount(found)} selections once its fragments are spread, above the limit of ${n}.`));
        }
        return false;
      },
    };
  };

/** graphql-js's own fragment cycle check, reported with its own code. */
const fragmentCyclesRule: ValidationRule = (context) =>
  NoFragmentCyclesRule(Object.create(context, { reportError: { value: (error: GraphQLError) => context.reportError(fragmentCycle(error)) } }) as ValidationContext);

/**
 * The limits on a document's shape, as validation rules: depth (fragments add no level;
 * introspection is not counted), aliases, directives (GraphQL Armor's rules), fragments and the
 * selections of each operation once its fragments are spread, plus fragment cycles. Every rule
 * here counts a fragment once and reuses its count, so none of them walks an expansion. They run before the schema's own validation, so that an abusive document gets
 * these few errors rather than one per offending field.
 */
export function shapeRules(limits: ShapeLimits): ValidationRule[] {
  return [
    maxDepthRule({ ...armorOptions('depth', limits.depth), flattenFragments: true }),
    maxAliasesRule(armorOptions('aliases', limits.aliases)),
    maxDirectivesRule(armorOptions('directives', limits.directives)),
    maxFragmentsRule(limits.fragments),
    maxExpandedSelectionsRule(limits.expandedSelections),
    fragmentCyclesRule,
  ];
}
