import { collectFields, collectSubfields } from 'graphql/execution/collectFields';
import { getArgumentValues, getNamedType, isObjectType, type FieldNode, type GraphQLObjectType } from 'graphql';
import type { CostModel } from './cost-model';
import type { PricedOperation } from './estimate';

type Fields = Map<string, readonly FieldNode[]>;

/**
 * The points of what really ran, read from the response with the same prices as the estimate:
 * every object returned costs its weight, lists count the items they hold, and a null (a record
 * that does not exist, or a failed source) costs nothing. Argument weights count once per
 * parent object, as in the estimate.
 */
export function actualCost(model: CostModel, priced: PricedOperation, data: Record<string, unknown> | null | undefined): number {
  const root = model.schema.getRootType(priced.operation.operation);
  if (!root || !data) return 0;
  // One collection per (field nodes, runtime type), reused for every item of a list.
  const collected = new WeakMap<readonly FieldNode[], Map<string, Fields>>();
  const subfields = (type: GraphQLObjectType, nodes: readonly FieldNode[]): Fields => {
    let byType = collected.get(nodes);
    if (!byType) collected.set(nodes, (byType = new Map()));
    let fields = byType.get(type.name);
    if (!fields) byType.set(type.name, (fields = collectSubfields(model.schema, priced.fragments, priced.variables, type, nodes)));
    return fields;
  };

  const objectCost = (type: GraphQLObjectType, fields: Fields, value: Record<string, unknown>): number => {
    let total = 0;
    for (const [responseKey, nodes] of fields) {
      const node = nodes[0]!;
      const cost = model.field(type.name, node.name.value);
      if (!cost || !(responseKey in value)) continue;
      if (cost.argumentWeights.length > 0) {
        const args = getArgumentValues(type.getFields()[node.name.value]!, node, priced.variables);
        for (const [arg, weight] of cost.argumentWeights) if (args[arg] !== undefined) total += weight;
      }
      const named = getNamedType(type.getFields()[node.name.value]!.type);
      const itemCost = (item: unknown): number => {
        if (item === null || item === undefined) return 0;
        if (Array.isArray(item)) return item.reduce((sum: number, inner) => sum + itemCost(inner), 0);
        if (!cost.composite || typeof item !== 'object') return cost.weight;
        const runtime = isObjectType(named) ? named : runtimeType(model, named.name, item as Record<string, unknown>);
        return cost.weight + (runtime ? objectCost(runtime, subfields(runtime, nodes), item as Record<string, unknown>) : 0);
      };
      total += itemCost(value[responseKey]);
    }
    return total;
  };
  return objectCost(root, collectFields(model.schema, priced.fragments, priced.variables, root, priced.operation.selectionSet), data);
}

/** The object type of a value of an interface or union: its `__typename` when the query asked for it. */
function runtimeType(model: CostModel, abstractName: string, value: Record<string, unknown>): GraphQLObjectType | undefined {
  const typename = value.__typename;
  const type = typeof typename === 'string' ? model.schema.getType(typename) : undefined;
  if (isObjectType(type)) return type;
  const possible = model.schema.getPossibleTypes(model.schema.getType(abstractName) as never);
  return possible.length === 1 ? possible[0] : undefined;
}
