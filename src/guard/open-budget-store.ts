import type { GuardDefinition } from '../config/definition';
import { resolveEnv } from '../config/env';
import type { BudgetStore } from './budget-store';
import { MemoryBudgetStore } from './memory-budget-store';
import { RedisBudgetStore } from './redis-budget-store';

/** The budget store `guard.budget.store` declares, ready to use. */
export async function openBudgetStore(budget: GuardDefinition['budget'], env: NodeJS.ProcessEnv = process.env): Promise<BudgetStore> {
  const policy = { capacity: budget.capacity, restoreRate: budget.restoreRate };
  const store = budget.store;
  switch (store.kind) {
    case 'memory':
      return new MemoryBudgetStore(policy, { maxClients: store.maxClients });
    case 'redis':
      return RedisBudgetStore.connect(policy, { url: resolveEnv(store.url, env), keyPrefix: store.keyPrefix, timeoutMs: store.timeoutMs });
  }
}
