import type { DocumentPrice } from '../guard/price-document';
import type { EstimateSummary, QueryCostGuard } from '../guard/query-cost-guard';

/** What `virtualize cost --json` prints: the estimate as a dry run answers it, and every refusal. */
export function costReport(guard: QueryCostGuard, price: DocumentPrice): Partial<EstimateSummary> & { errors: Array<{ message: string; code?: unknown }> } {
  return {
    ...(price.estimate ? guard.summarize(price.estimate) : {}),
    errors: price.errors.map((error) => ({ message: error.message, code: error.extensions.code })),
  };
}

/** What `virtualize cost` prints: points, calls per source and the most expensive paths, then any refusal. */
export function formatPrice(guard: QueryCostGuard, price: DocumentPrice): string {
  const lines: string[] = [];
  if (price.estimate) {
    const summary = guard.summarize(price.estimate);
    lines.push(`${summary.requestedQueryCost} points (limit ${summary.maximumCost})`);
    const calls = Object.entries(summary.upstreamCalls).map(([source, { predicted, maximum }]) => `${source} ${predicted}${maximum === undefined ? '' : ` (limit ${maximum})`}`);
    lines.push(`upstream calls: ${calls.length > 0 ? calls.join(', ') : 'none'}`);
    lines.push(`most expensive: ${summary.mostExpensive.map((p) => `${p.path} ${p.amount} (${Math.round(p.share * 100)}%)`).join(', ')}`);
  }
  for (const error of price.errors) lines.push(`refused${error.extensions.code ? ` (${String(error.extensions.code)})` : ''}: ${error.message}`);
  return `${lines.join('\n')}\n`;
}
