import { collectFields, collectSubfields } from 'graphql/execution/collectFields';
import { getArgumentValues, getNamedType, isObjectType, type FieldNode, type GraphQLObjectType } from 'graphql';
import type { CostModel } from './cost-model';
import type { PricedOperation } from './estimate';

/** How to price one response key of an object, worked out once per operation rather than per item. */
interface FieldPrice {
  responseKey: string;
  weight: number;
  /** Argument weights of the arguments passed, counted once per parent object. */
  argumentPoints: number;
  /** For an object field: the prices of its selection, by the runtime type of a value. */
  selection?: (value: Record<string, unknown>) => readonly FieldPrice[] | undefined;
}

/**
 * The points of what really ran, read from the response with the same prices as the estimate:
 * every object returned costs its weight, lists count the items they hold, and a null (a record
 * that does not exist, or a failed source) costs nothing. Argument weights count once per parent
 * object, as in the estimate. For an interface or union, the runtime type is read from
 * `__typename` when the query asked for it.
 */
export function actualCost(model: CostModel, priced: PricedOperation, data: Record<string, unknown> | null | undefined): number {
  const root = model.schema.getRootType(priced.operation.operation);
  if (!root || !data) return 0;

  const pricesOf = (type: GraphQLObjectType, fields: Map<string, readonly FieldNode[]>): FieldPrice[] => {
    const prices: FieldPrice[] = [];
    for (const [responseKey, nodes] of fields) {
      const node = nodes[0]!;
      const cost = model.field(type.name, node.name.value);
      if (!cost) continue;
      const definition = type.getFields()[node.name.value]!;
      let argumentPoints = 0;
      if (cost.argumentWeights.length > 0) {
        const args = getArgumentValues(definition, node, priced.variables);
        for (const [arg, weight] of cost.argumentWeights) if (args[arg] !== undefined) argumentPoints += weight;
      }
      const price: FieldPrice = { responseKey, weight: cost.weight, argumentPoints };
      if (cost.composite) {
        const named = getNamedType(definition.type);
        const byType = new Map<string, FieldPrice[]>();
        const forType = (runtime: GraphQLObjectType) => {
          let selection = byType.get(runtime.name);
          if (!selection) byType.set(runtime.name, (selection = pricesOf(runtime, collectSubfields(model.schema, priced.fragments, priced.variables, runtime, nodes))));
          return selection;
        };
        if (isObjectType(named)) {
          const selection = forType(named);
          price.selection = () => selection;
        } else {
          price.selection = (value) => {
            const runtime = typeof value.__typename === 'string' ? model.schema.getType(value.__typename) : undefined;
            return isObjectType(runtime) ? forType(runtime) : undefined;
          };
        }
      }
      prices.push(price);
    }
    return prices;
  };

  const objectCost = (prices: readonly FieldPrice[], value: Record<string, unknown>): number => {
    let total = 0;
    for (const price of prices) {
      const item = value[price.responseKey];
      if (item !== undefined) total += price.argumentPoints + itemCost(price, item);
    }
    return total;
  };
  const itemCost = (price: FieldPrice, item: unknown): number => {
    if (item === null || item === undefined) return 0;
    if (Array.isArray(item)) {
      let total = 0;
      for (const element of item) total += itemCost(price, element);
      return total;
    }
    if (!price.selection || typeof item !== 'object') return price.weight;
    const selection = price.selection(item as Record<string, unknown>);
    return price.weight + (selection ? objectCost(selection, item as Record<string, unknown>) : 0);
  };

  return objectCost(pricesOf(root, collectFields(model.schema, priced.fragments, priced.variables, root, priced.operation.selectionSet)), data);
}
