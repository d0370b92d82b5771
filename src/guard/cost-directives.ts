import { isTypeDefinitionNode, Kind, print, valueFromASTUntyped, type ConstDirectiveNode, type DocumentNode } from 'graphql';
import { CODES, VirtualizeError } from '../errors';

/** `@listSize` as declared on one field (IBM GraphQL Cost Directive specification). */
export interface ListSize {
  /** Items assumed when the query passes no slicing argument. */
  assumedSize?: number;
  /** Arguments whose value is the number of items (`first`), or a list whose length is (`ids`). */
  slicingArguments: readonly string[];
  /** Fields of the returned object that the size applies to (a connection's `nodes`). */
  sizedFields: readonly string[];
  requireOneSlicingArgument: boolean;
}

/** Every `@cost` and `@listSize` of an SDL document, keyed by `Type`, `Type.field` and `Type.field(argument)`. */
export interface DeclaredCosts {
  typeWeights: ReadonlyMap<string, number>;
  fieldWeights: ReadonlyMap<string, number>;
  argumentWeights: ReadonlyMap<string, number>;
  listSizes: ReadonlyMap<string, ListSize>;
}

/** A malformed `@cost` or `@listSize`, or one that does not fit the served schema: the gateway does not start. */
export class CostDirectiveError extends VirtualizeError<typeof CODES.INVALID_COST_DIRECTIVE> {
  constructor(message: string) {
    super(CODES.INVALID_COST_DIRECTIVE, message);
  }
}

function argumentsOf(directive: ConstDirectiveNode): Record<string, unknown> {
  return Object.fromEntries((directive.arguments ?? []).map((arg) => [arg.name.value, valueFromASTUntyped(arg.value)]));
}

function weightOf(directive: ConstDirectiveNode, where: string): number {
  const { weight } = argumentsOf(directive);
  const value = typeof weight === 'string' ? Number(weight) : Number.NaN;
  if (!Number.isFinite(value) || value < 0) {
    throw new CostDirectiveError(`${where}: ${print(directive)} needs weight as a string holding a number of at least 0, e.g. @cost(weight: "2")`);
  }
  return value;
}

function stringList(value: unknown, name: string, where: string): string[] {
  if (value === undefined || value === null) return [];
  const list = Array.isArray(value) ? value : [value];
  if (!list.every((item): item is string => typeof item === 'string')) throw new CostDirectiveError(`${where}: @listSize(${name}:) takes a list of names`);
  return list;
}

function listSizeOf(directive: ConstDirectiveNode, where: string): ListSize {
  const args = argumentsOf(directive);
  const assumedSize = args.assumedSize;
  if (assumedSize !== undefined && assumedSize !== null && !(Number.isInteger(assumedSize) && (assumedSize as number) >= 0)) {
    throw new CostDirectiveError(`${where}: @listSize(assumedSize:) must be a whole number of at least 0`);
  }
  return {
    ...(typeof assumedSize === 'number' ? { assumedSize } : {}),
    slicingArguments: stringList(args.slicingArguments, 'slicingArguments', where),
    sizedFields: stringList(args.sizedFields, 'sizedFields', where),
    requireOneSlicingArgument: args.requireOneSlicingArgument !== false,
  };
}

/** Type definitions whose own `@cost` is read: the weight of each of their values. */
const WEIGHTED_TYPES = new Set<string>([Kind.OBJECT_TYPE_DEFINITION, Kind.SCALAR_TYPE_DEFINITION, Kind.ENUM_TYPE_DEFINITION]);

/**
 * Reads the cost directives of an SDL document. Only their form is checked here; whether the
 * fields and arguments they name exist is checked against the served schema (see cost-model).
 * `@cost` on input types, input fields, interfaces and unions is refused rather than ignored:
 * nothing in the estimate would read it.
 */
export function readCostDirectives(document: DocumentNode): DeclaredCosts {
  const typeWeights = new Map<string, number>();
  const fieldWeights = new Map<string, number>();
  const argumentWeights = new Map<string, number>();
  const listSizes = new Map<string, ListSize>();
  const costOf = (directives: readonly ConstDirectiveNode[] | undefined) => directives?.find((d) => d.name.value === 'cost');
  for (const definition of document.definitions) {
    if (!isTypeDefinitionNode(definition)) continue;
    const typeName = definition.name.value;
    const typeCost = costOf(definition.directives);
    const fields = 'fields' in definition ? (definition.fields ?? []) : [];
    if (!WEIGHTED_TYPES.has(definition.kind) && (typeCost || fields.some((field) => costOf(field.directives)))) {
      throw new CostDirectiveError(`${typeName}: @cost is read on object, scalar and enum types, object fields and their arguments only`);
    }
    if (typeCost) typeWeights.set(typeName, weightOf(typeCost, typeName));
    if (definition.kind !== Kind.OBJECT_TYPE_DEFINITION) continue;
    for (const field of definition.fields ?? []) {
      const key = `${typeName}.${field.name.value}`;
      for (const directive of field.directives ?? []) {
        if (directive.name.value === 'cost') fieldWeights.set(key, weightOf(directive, key));
        if (directive.name.value === 'listSize') listSizes.set(key, listSizeOf(directive, key));
      }
      for (const argument of field.arguments ?? []) {
        const cost = costOf(argument.directives);
        if (cost) argumentWeights.set(`${key}(${argument.name.value})`, weightOf(cost, `${key}(${argument.name.value}:)`));
      }
    }
  }
  return { typeWeights, fieldWeights, argumentWeights, listSizes };
}
