import { collectFields, collectSubfields } from 'graphql/execution/collectFields';
import {
  getArgumentValues,
  getNamedType,
  isAbstractType,
  isObjectType,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLObjectType,
  type OperationDefinitionNode,
} from 'graphql';
import type { CostModel, FieldCost } from './cost-model';
import type { FetchRole, LoaderRef } from './fetch-plan';

/** A response path (list indexes left out) and what it accounts for. */
export interface PathShare {
  path: string;
  /** Points, or upstream calls in `callPaths`. */
  amount: number;
  /** Of the whole, between 0 and 1. */
  share: number;
}

/** A list field priced at its assumed size because the query passed none of its slicing arguments. */
export interface UnslicedList {
  path: string;
  slicingArguments: readonly string[];
  assumedSize: number;
}

/** A field declared with `requireOneSlicingArgument` that did not get exactly one. */
export interface SlicingViolation {
  path: string;
  field: string;
  slicingArguments: readonly string[];
  passed: number;
}

export interface CostEstimate {
  /** Points of the whole operation (IBM GraphQL Cost Directive specification). */
  cost: number;
  /** Points by path, most expensive first. */
  paths: PathShare[];
  /** Upstream calls per source after batching and de-duplication. */
  upstreamCalls: Record<string, number>;
  /** Per source, the paths whose resolution makes its calls, most first. */
  callPaths: Record<string, PathShare[]>;
  unsliced: UnslicedList[];
  slicingViolations: SlicingViolation[];
}

/** The operation to price, with its variables already coerced. */
export interface PricedOperation {
  operation: OperationDefinitionNode;
  fragments: Record<string, FragmentDefinitionNode>;
  variables: Record<string, unknown>;
}

/** `first` of a list root when the query leaves it null, as the list resolver reads it. */
const DEFAULT_PAGE = 20;

/**
 * Records that a request holds at some point of the query: joins ask the sources for their
 * partners. Two scopes with one id hold the same records, which the per-request loaders fetch once.
 */
interface Scope {
  id: string;
  /** The upstream round trip that fetched them (0 for a root field's). */
  wave: number;
  /** How many records, at most. */
  count: number;
  /** Reached through a forward join: the mapping and the parent records. */
  via?: { mapping: string; parents: Scope };
}

/** Values one loader is asked for, by what they are the keys of. */
interface LoaderDemand {
  loader: LoaderRef;
  /** Per set of keys: its round trip, how many keys, and every path that asks for them. */
  tokens: Map<string, { wave: number; count: number; paths: string[] }>;
}

function sortedShares(amounts: ReadonlyMap<string, number>, total: number): PathShare[] {
  return [...amounts]
    .map(([path, amount]) => ({ path, amount, share: total > 0 ? amount / total : 0 }))
    .sort((a, b) => b.amount - a.amount);
}

/**
 * Prices an operation before it runs, walking its fields as execution would collect them
 * (fragments, inline fragments, aliases, `@skip`/`@include` and variables included, through
 * graphql-js's own field collection), once per response path rather than once per item:
 *
 * - points: a field costs its argument weights once per parent object, plus its weight per item;
 *   a list multiplies what lies below it by its size. Interfaces and unions count every possible
 *   type (an upper bound).
 * - upstream calls: each list root pages by its catalog list's page size; each lookup and join
 *   asks one per-request loader (a catalog loader, the one the connectors load through) for the
 *   keys of the records above it, deduplicated as the loaders do (the same records asked twice
 *   cost one set of calls; a join back to the records a forward join came from costs nothing), and
 *   batched per round trip by the catalog lookup's `batchSize` (1 without a batch endpoint).
 *   A service crosswalk first asks its master-data lookup (by its catalog loader, shared by every
 *   crosswalk over that entity) for the parents' keys, one round trip earlier.
 *   A key field that holds a list asks for each element: its parent's keys are its assumed
 *   element count (the field's `assumedSize`, else `guard.listSizes.list`). Crosswalks are assumed
 *   to give one partner per key; a service as many as the list its records hold the keys in.
 */
export function estimateCost(model: CostModel, priced: PricedOperation): CostEstimate {
  const walk = new CostWalk(model, priced);
  const root = model.schema.getRootType(priced.operation.operation);
  if (root) walk.selection(root, collectFields(model.schema, priced.fragments, priced.variables, root, priced.operation.selectionSet), 1, '', undefined, undefined);
  return walk.result();
}

class CostWalk {
  private readonly pathCosts = new Map<string, number>();
  private readonly listCalls = new Map<string, Map<string, number>>();
  private readonly demands = new Map<string, LoaderDemand>();
  private readonly unsliced: UnslicedList[] = [];
  private readonly violations: SlicingViolation[] = [];

  constructor(
    private readonly model: CostModel,
    private readonly priced: PricedOperation,
  ) {}

  selection(
    type: GraphQLObjectType,
    fields: Map<string, readonly FieldNode[]>,
    multiplier: number,
    path: string,
    scope: Scope | undefined,
    sizedByParent: { fields: readonly string[]; size: number } | undefined,
  ): void {
    for (const [responseKey, nodes] of fields) {
      const node = nodes[0]!;
      const cost = this.model.field(type.name, node.name.value);
      if (!cost) continue; // __typename and introspection cost nothing
      const definition = type.getFields()[node.name.value]!;
      const args = getArgumentValues(definition, node, this.priced.variables);
      const fieldPath = path === '' ? responseKey : `${path}.${responseKey}`;
      const sizesChildren = (cost.listSize?.sizedFields.length ?? 0) > 0;
      const field = `${type.name}.${definition.name}`;
      const sliceable = cost.listSize ? this.sliceSize(cost, args, fieldPath, field) : 1;
      const sliced = cost.role?.kind === 'list' ? Math.min(sliceable, cost.role.maxFirst) : sliceable;
      const size = sizedByParent?.fields.includes(definition.name) ? sizedByParent.size : cost.isList && !sizesChildren ? sliced : 1;

      let argumentPoints = 0;
      for (const [arg, weight] of cost.argumentWeights) if (args[arg] !== undefined) argumentPoints += weight;
      const items = multiplier * size;
      this.add(this.pathCosts, fieldPath, multiplier * argumentPoints + items * cost.weight);

      const childScope = cost.role ? this.fetch(cost.role, field, args, scope, size, multiplier, fieldPath) : scope;
      if (!cost.composite) continue;
      const named = getNamedType(definition.type);
      const runtimeTypes = isObjectType(named) ? [named] : isAbstractType(named) ? this.model.schema.getPossibleTypes(named) : [];
      const childSizing = sizesChildren ? { fields: cost.listSize!.sizedFields, size: sliced } : undefined;
      for (const runtime of runtimeTypes) {
        const subfields = collectSubfields(this.model.schema, this.priced.fragments, this.priced.variables, runtime, nodes);
        this.selection(runtime, subfields, items, fieldPath, childScope, childSizing);
      }
    }
  }

  /** The size the slicing arguments give, or the assumed size; notes missing or extra slicing arguments. */
  private sliceSize(cost: FieldCost, args: Record<string, unknown>, path: string, field: string): number {
    const listSize = cost.listSize!;
    const passed = listSize.slicingArguments.filter((arg) => args[arg] !== undefined && args[arg] !== null);
    if (listSize.requireOneSlicingArgument && listSize.slicingArguments.length > 0 && passed.length !== 1) {
      this.violations.push({ path, field, slicingArguments: listSize.slicingArguments, passed: passed.length });
    }
    if (passed.length === 0) {
      if (listSize.slicingArguments.length > 0) this.unsliced.push({ path, slicingArguments: listSize.slicingArguments, assumedSize: listSize.assumedSize });
      return listSize.assumedSize;
    }
    return Math.max(0, ...passed.map((arg) => (Array.isArray(args[arg]) ? (args[arg] as unknown[]).length : Number(args[arg]))));
  }

  /** Notes the upstream calls a field makes; returns the records its selection sees. */
  private fetch(role: FetchRole, field: string, args: Record<string, unknown>, scope: Scope | undefined, size: number, multiplier: number, path: string): Scope | undefined {
    switch (role.kind) {
      case 'list': {
        const first = Math.min(typeof args.first === 'number' ? Math.max(0, args.first) : DEFAULT_PAGE, role.maxFirst);
        // Every list call is made (lists are not cached per request); `first: 0` still asks one page.
        const sourceCalls = this.listCalls.get(role.source) ?? new Map<string, number>();
        this.listCalls.set(role.source, sourceCalls);
        this.add(sourceCalls, path, multiplier * Math.max(1, Math.ceil(first / role.maxPageSize)));
        return { id: `${field}${JSON.stringify(args)}`, wave: 0, count: first };
      }
      case 'lookup': {
        const raw = args[role.argument];
        const values = [...new Set((Array.isArray(raw) ? raw : [raw]).filter((v) => v !== null && v !== undefined).map(String))];
        for (const value of values) this.demand(role.loader, `=${value}`, 0, 1, path);
        return { id: `${role.loader.id}=${values.join(',')}`, wave: 0, count: values.length };
      }
      case 'join': {
        const parents = scope ?? { id: path, wave: 0, count: multiplier };
        const back = role.direction === 'inverse' && parents.via?.mapping === role.mapping ? parents.via.parents : undefined;
        // A service crosswalk asks its master-data lookup first, one round trip before the records
        // (unless that lookup is unique and already holds the records a forward join fetched).
        const service = role.service && !(back && role.service.loader.lookup.unique) ? role.service : undefined;
        // A key that holds a list asks for each of its elements.
        const keys = parents.count * role.keysPerParent;
        if (service) this.demand(service.loader, `${parents.id}.${service.keyField}`, parents.wave + 1, keys, path);
        // The records a forward join came from are already held: the way back is primed.
        if (back && role.loader.lookup.unique) return back;
        const wave = parents.wave + (service ? 2 : 1);
        this.demand(role.loader, parents.id, wave, keys * (service?.partnersPerKey ?? 1), path);
        if (!role.yieldsRecords) return undefined;
        if (role.direction === 'inverse') return { id: `${role.mapping}<${parents.id}`, wave, count: keys };
        return { id: `${role.mapping}>${parents.id}`, wave, count: parents.count * size, via: { mapping: role.mapping, parents } };
      }
    }
  }

  private demand(loader: LoaderRef, token: string, wave: number, count: number, path: string): void {
    let demand = this.demands.get(loader.id);
    if (!demand) this.demands.set(loader.id, (demand = { loader, tokens: new Map() }));
    const known = demand.tokens.get(token);
    if (!known) return void demand.tokens.set(token, { wave, count, paths: [path] });
    if (count > known.count) known.count = count; // a wider slice of the same records
    if (!known.paths.includes(path)) known.paths.push(path);
  }

  private add(amounts: Map<string, number>, path: string, amount: number): void {
    amounts.set(path, (amounts.get(path) ?? 0) + amount);
  }

  result(): CostEstimate {
    const cost = [...this.pathCosts.values()].reduce((a, b) => a + b, 0);
    const bySource = new Map<string, Map<string, number>>([...this.listCalls].map(([source, paths]) => [source, new Map(paths)]));
    for (const { loader, tokens } of this.demands.values()) {
      const paths = bySource.get(loader.lookup.source) ?? new Map<string, number>();
      bySource.set(loader.lookup.source, paths);
      const waves = new Map<number, Map<string, number>>();
      for (const { wave, count, paths: askedBy } of tokens.values()) {
        const values = waves.get(wave) ?? new Map<string, number>();
        waves.set(wave, values);
        this.add(values, askedBy.join(' + '), count);
      }
      for (const values of waves.values()) {
        const total = [...values.values()].reduce((a, b) => a + b, 0);
        const calls = Math.ceil(total / loader.lookup.batchSize) * loader.lookup.pagesPerCall;
        for (const [path, count] of values) if (total > 0) this.add(paths, path, (calls * count) / total);
      }
    }
    const upstreamCalls: Record<string, number> = {};
    const callPaths: Record<string, PathShare[]> = {};
    for (const [source, paths] of bySource) {
      const total = Math.round([...paths.values()].reduce((a, b) => a + b, 0));
      upstreamCalls[source] = total;
      callPaths[source] = sortedShares(paths, total);
    }
    return { cost, paths: sortedShares(this.pathCosts, cost), upstreamCalls, callPaths, unsliced: this.unsliced, slicingViolations: this.violations };
  }
}
