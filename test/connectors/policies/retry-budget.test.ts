import { RetryBudget } from '../../../src/connectors/policies/retry-budget';

describe('retry budget', () => {
  it('allows ratio x calls plus minPerSecond x window retries, and no more', () => {
    const now = 0;
    const budget = new RetryBudget({ ratio: 0.2, minPerSecond: 1, windowMs: 2_000 }, () => now);
    for (let i = 0; i < 50; i += 1) budget.recordCall();
    // 0.2 x 50 calls + 1/s x 2 s = 12 retries.
    const granted = Array.from({ length: 20 }, () => budget.tryRetry()).filter(Boolean).length;
    expect(granted).toBe(12);
  });

  it('forgets calls and retries older than the window', () => {
    let now = 0;
    const budget = new RetryBudget({ ratio: 1, minPerSecond: 0, windowMs: 1_000 }, () => now);
    budget.recordCall();
    expect(budget.tryRetry()).toBe(true);
    expect(budget.tryRetry()).toBe(false);
    now = 1_500;
    expect(budget.tryRetry()).toBe(false); // the call has left the window with its retry
    budget.recordCall();
    expect(budget.tryRetry()).toBe(true);
  });

  it('rejects a window that is not a positive duration', () => {
    expect(() => new RetryBudget({ ratio: 0.2, minPerSecond: 1, windowMs: 0 })).toThrow(/windowMs/);
  });
});
