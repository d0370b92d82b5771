import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import { getOperationAST, Kind, type DocumentNode, type FragmentDefinitionNode, type SelectionSetNode } from 'graphql';

/**
 * Answers keep the order the client asked in (the GraphQL spec's "serialized map ordering"):
 * `{ customers { ... } order { ... } }` answers `customers` first. yoga's executor
 * (`@graphql-tools/executor`) writes each object's keys as their values resolve, so a slow source
 * moved its fields last, and a failing one first (graphql-yoga#3256). This puts every object's
 * keys back in the order of its selection, fragments spread where they stand, before any later
 * plugin (the response cache among them) reads the answer.
 *
 * The order of a selection is computed once per position in the document, however many records
 * the answer holds there, and its size is the document's expanded size, which the guard bounds
 * (`guard.limits.expandedSelections`). An object whose keys are already in order is kept as it is.
 */
export function useSelectionOrder(): Plugin {
  return {
    onExecute({ args }) {
      const operation = getOperationAST(args.document, args.operationName);
      if (!operation) return;
      return {
        onExecuteDone({ result, setResult }) {
          if (isAsyncIterable(result) || result.data === null || result.data === undefined) return;
          const plan = new OrderPlan([operation.selectionSet], fragmentsOf(args.document));
          const data = plan.apply(result.data);
          if (data !== result.data) setResult({ ...result, data: data as Record<string, unknown> });
        },
      };
    },
  };
}

function fragmentsOf(document: DocumentNode): Map<string, FragmentDefinitionNode> {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  return fragments;
}

/** The response keys of one position in the document, in order, and the plan of each key's own selection. */
class OrderPlan {
  private keys: string[] | undefined;
  private readonly children = new Map<string, OrderPlan | null>();

  constructor(
    private readonly selectionSets: readonly SelectionSetNode[],
    private readonly fragments: ReadonlyMap<string, FragmentDefinitionNode>,
  ) {}

  /** `value` with every object's keys in selection order; the same value when nothing moves. */
  apply(value: unknown): unknown {
    if (Array.isArray(value)) {
      let items: unknown[] | undefined;
      for (let i = 0; i < value.length; i++) {
        const item: unknown = value[i];
        const ordered = this.apply(item);
        if (ordered !== item) (items ??= value.slice())[i] = ordered;
      }
      return items ?? value;
    }
    if (value === null || typeof value !== 'object') return value;
    const record = value as Record<string, unknown>;
    const keys = this.collect();
    // One pass over the asked keys: each child in order, and whether the record's own order (read
    // by a second cursor over its keys) already matches.
    let out: Record<string, unknown> | undefined;
    let count = 0;
    const own = Object.keys(record);
    for (const key of keys) {
      const child = record[key];
      // Answers hold null, never undefined; a function is a prototype's, not an answered key.
      if (child === undefined || (typeof child === 'function' && !Object.hasOwn(record, key))) continue;
      const plan = this.children.get(key);
      const ordered = plan ? plan.apply(child) : child;
      if (!out && (ordered !== child || own[count] !== key)) {
        out = {};
        for (let i = 0; i < count; i++) out[own[i]!] = record[own[i]!];
      }
      if (out) out[key] = ordered;
      count += 1;
    }
    // Untouched: the asked keys already lead in order (any others follow them).
    if (!out) return value;
    // A key the document does not name (none is expected) is kept, after the asked ones.
    for (const key of own) if (!Object.hasOwn(out, key)) out[key] = record[key];
    return out;
  }

  /** The keys in the order CollectFields meets them, each with the selection sets merged under it. */
  private collect(): readonly string[] {
    if (this.keys) return this.keys;
    const subSelections = new Map<string, SelectionSetNode[]>();
    const visitedFragments = new Set<string>();
    const visit = (selectionSet: SelectionSetNode) => {
      for (const selection of selectionSet.selections) {
        if (selection.kind === Kind.FIELD) {
          const key = selection.alias?.value ?? selection.name.value;
          let sets = subSelections.get(key);
          if (!sets) subSelections.set(key, (sets = []));
          if (selection.selectionSet) sets.push(selection.selectionSet);
          // Type conditions are not read: the model has no abstract types, and a key a record
          // does not have is skipped.
        } else if (selection.kind === Kind.INLINE_FRAGMENT) visit(selection.selectionSet);
        else {
          // Each named fragment once per position, as CollectFields spreads it.
          const name = selection.name.value;
          const fragment = this.fragments.get(name);
          if (!fragment || visitedFragments.has(name)) continue;
          visitedFragments.add(name);
          visit(fragment.selectionSet);
        }
      }
    };
    for (const selectionSet of this.selectionSets) visit(selectionSet);
    for (const [key, sets] of subSelections) this.children.set(key, sets.length > 0 ? new OrderPlan(sets, this.fragments) : null);
    return (this.keys = [...subSelections.keys()]);
  }
}

