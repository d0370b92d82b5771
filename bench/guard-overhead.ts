/**
 * The query guard's own work per request, measured in this process on the benchmark's operation and
 * a real answer to it: what `useQueryCost` does for a request (price the operation, take from and
 * give back to an in-memory budget, price the answer) the first time it sees the combination, a
 * price it remembers, and what `useShapeLimits` does the first time it sees a document (later
 * requests with the same text reuse its verdict).
 */
import { performance } from 'node:perf_hooks';
import { parse, validate } from 'graphql';
import type { VirtualizationConfig } from '../src/config/definition';
import { createGeneration } from '../src/runtime/generations';
import { MemoryBudgetStore } from '../src/guard/memory-budget-store';
import { QueryCostGuard } from '../src/guard/query-cost-guard';
import { shapeRules } from '../src/guard/shape-rules';
import type { Operation } from './measure';
import { PROJECT_ROOT } from './project';

export interface GuardOverhead {
  iterations: number;
  /**
   * Microseconds per request, by step: the median of ROUNDS rounds of `iterations / ROUNDS` runs
   * each (after as many warm-ups), so that a burst of noise on a shared machine moves one round only.
   */
  microseconds: { price: number; priceRemembered: number; budget: number; actualCost: number; perRequest: number; shapeLimitsFirstSight: number };
}

export const ROUNDS = 7;
const round = (us: number) => Math.round(us * 10) / 10;

export async function medianMicroseconds(iterations: number, step: () => unknown): Promise<number> {
  for (let i = 0; i < iterations; i++) await step();
  const rounds: number[] = [];
  const perRound = Math.ceil(iterations / ROUNDS);
  for (let r = 0; r < ROUNDS; r++) {
    const started = performance.now();
    for (let i = 0; i < perRound; i++) await step();
    rounds.push(((performance.now() - started) * 1000) / perRound);
  }
  return rounds.sort((a, b) => a - b)[Math.floor(ROUNDS / 2)]!;
}

export async function measureGuardOverhead(config: VirtualizationConfig, operation: Operation, answer: Record<string, unknown>, iterations = 2_000): Promise<GuardOverhead> {
  // Only the schema is used: no source is called.
  const gateway = await createGeneration(config, { baseDir: PROJECT_ROOT, env: process.env });
  try {
    const guard = QueryCostGuard.forGateway(gateway);
    const budget = new MemoryBudgetStore({ capacity: config.guard.budget.capacity, restoreRate: config.guard.budget.restoreRate });
    const document = parse(operation.query);
    const rules = shapeRules(config.guard.limits);
    const pricing = guard.price(document, undefined, operation.variables);
    if (!pricing.ok || pricing.refusal) throw new Error(`the benchmark's operation is not priced within the limits: ${pricing.ok ? pricing.refusal?.message : pricing.errors.map((e) => e.message).join('; ')}`);
    const requested = Math.ceil(pricing.estimate.cost);
    const actual = Math.ceil(guard.actual(pricing.priced, answer));

    // A guard remembers prices and the cost of answers it has seen: a fresh one (over the same cost
    // model) does the work each time, as for a combination asked for the first time.
    const fresh = () => new QueryCostGuard(guard.model, guard.maxCost);
    const price = await medianMicroseconds(iterations, () => fresh().price(document, undefined, operation.variables));
    const priceRemembered = await medianMicroseconds(iterations, () => guard.price(document, undefined, operation.variables));
    const budgetStep = await medianMicroseconds(iterations, async () => {
      await budget.take('bench', requested);
      await budget.give('bench', requested - actual);
    });
    const actualCost = await medianMicroseconds(iterations, () => fresh().actual(pricing.priced, answer));
    const shapeLimitsFirstSight = await medianMicroseconds(iterations, () => validate(gateway.schema, document, rules));
    await budget.close();
    return {
      iterations,
      microseconds: { price: round(price), priceRemembered: round(priceRemembered), budget: round(budgetStep), actualCost: round(actualCost), perRequest: round(price + budgetStep + actualCost), shapeLimitsFirstSight: round(shapeLimitsFirstSight) },
    };
  } finally {
    await gateway.close();
  }
}
