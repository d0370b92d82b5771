import { Kind, type FragmentDefinitionNode, type SelectionSetNode } from 'graphql';

/**
 * Counts the selections of a selection set as if every fragment spread were replaced by its
 * fragment's selections, recursively: every field, inline fragment and spread counts one, so that
 * neither wrappers nor spreads hide work. Each fragment is counted once and its count reused
 * (memoized by name), so a document whose expansion is exponential (seven levels of fragments,
 * each spreading the one below ten times, is a million fields in 600 bytes) costs its own length
 * to count, never its expansion.
 *
 * A spread of an unknown fragment counts one (validation reports it); a spread inside a fragment
 * cycle adds nothing more (the cycle rule reports it). The count is a float: a document can
 * describe more selections than an integer holds, and the comparison with a limit stays right.
 */
export class ExpandedSize {
  private readonly sizes = new Map<string, number>();

  constructor(private readonly fragment: (name: string) => FragmentDefinitionNode | null | undefined) {}

  of(selectionSet: SelectionSetNode): number {
    let size = 0;
    for (const selection of selectionSet.selections) {
      size += 1;
      if (selection.kind === Kind.FRAGMENT_SPREAD) size += this.fragmentSize(selection.name.value);
      else if (selection.selectionSet) size += this.of(selection.selectionSet);
    }
    return size;
  }

  private fragmentSize(name: string): number {
    const known = this.sizes.get(name);
    if (known !== undefined) return known;
    const definition = this.fragment(name);
    // Marked before it is counted, so that a cycle ends here instead of recursing for ever.
    this.sizes.set(name, 0);
    const size = definition ? this.of(definition.selectionSet) : 0;
    this.sizes.set(name, size);
    return size;
  }
}

/** A count as a message states it: exact while it is readable, else its order of magnitude. */
export function describeCount(count: number): string {
  if (count < 1e9) return String(count);
  return Number.isFinite(count) ? `about 10^${Math.floor(Math.log10(count))}` : 'more than 10^308';
}
