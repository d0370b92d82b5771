/**
 * The soak: closed-loop clients ask the gateway for the customer 360 for a minute while the sandbox
 * misbehaves: the order system fails 20% of its requests (503) from start to end, and the support
 * desk is down (connections refused) for 15 s in the middle. Before it, a fault-free run of the
 * same load gives the upstream calls per answer to compare against.
 *
 * Every answer is sorted into complete (data, no error), partial (data and errors naming a source)
 * or failed (no data, or an HTTP error); gateway 5xx are counted apart (the goal is none). The
 * gateway's /readyz is polled throughout, so that the report shows when each breaker opened and
 * closed. Upstream calls are counted where they land, at the sandboxes.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import { distribution, type Distribution, type Operation, type SandboxControl } from './measure';
import { benchClientKey, SYSTEMS, type SystemName } from './project';

export interface SoakOptions {
  clients: number;
  faultFreeSeconds: number;
  seconds: number;
  /** Share of order-system requests answered 503, all through the soak. */
  ordersErrorRate: number;
  /** When the support desk goes down, and for how long, in seconds from the start. */
  supportOutage: { atSecond: number; forSeconds: number };
}

export interface SoakPhase {
  seconds: number;
  answers: number;
  answersPerSecond: number;
  /** Shares of all answers, from 0 to 1. */
  complete: number;
  partial: number;
  failed: number;
  gateway5xx: number;
  /** Error codes in the answers, and how often. */
  errorCodes: Record<string, number>;
  upstreamCalls: number;
  upstreamPerAnswer: number;
  upstreamBySystem: Record<SystemName, number>;
  latencyMs: Distribution;
}

export interface BreakerChange {
  atSecond: number;
  source: string;
  state: string;
}

export interface SoakResult {
  clients: number;
  faults: string;
  faultFree: SoakPhase;
  faulted: SoakPhase;
  breakerChanges: BreakerChange[];
}

type Outcome = 'complete' | 'partial' | 'failed';

interface Tally {
  outcomes: Record<Outcome, number>;
  gateway5xx: number;
  errorCodes: Record<string, number>;
  latencies: number[];
}

/** Posts the operation and sorts the answer; never throws for what the gateway answers. */
async function ask(agent: Agent, url: string, operation: Operation, apiKey: string, tally: Tally): Promise<void> {
  const started = performance.now();
  let outcome: Outcome = 'failed';
  try {
    const response = await request(url, {
      method: 'POST',
      dispatcher: agent,
      headers: { 'content-type': 'application/json', accept: 'application/json', 'x-api-key': apiKey },
      body: JSON.stringify(operation),
    });
    const text = await response.body.text();
    if (response.statusCode >= 500) tally.gateway5xx += 1;
    if (response.statusCode === 200) {
      const body = JSON.parse(text) as { data?: { customers?: unknown } | null; errors?: Array<{ extensions?: { code?: string } }> };
      for (const error of body.errors ?? []) {
        const code = error.extensions?.code ?? 'NO_CODE';
        tally.errorCodes[code] = (tally.errorCodes[code] ?? 0) + 1;
      }
      if (body.data?.customers) outcome = body.errors?.length ? 'partial' : 'complete';
    }
  } catch {
    // A request the gateway did not answer at all is a failed answer.
  }
  tally.outcomes[outcome] += 1;
  tally.latencies.push(performance.now() - started);
}

async function runPhase(url: string, control: SandboxControl, operation: Operation, clients: number, seconds: number, during?: (elapsedMs: () => number) => Promise<void>): Promise<SoakPhase> {
  const agent = new Agent({ connections: clients, keepAliveTimeout: 30_000 });
  const tally: Tally = { outcomes: { complete: 0, partial: 0, failed: 0 }, gateway5xx: 0, errorCodes: {}, latencies: [] };
  await control.reset();
  const started = performance.now();
  const elapsedMs = () => performance.now() - started;
  const until = started + seconds * 1000;
  try {
    await Promise.all([
      // Each client sends its own API key, as separate dashboards do, so that each spends its own query budget.
      ...Array.from({ length: clients }, async (_, i) => {
        while (performance.now() < until) await ask(agent, url, operation, benchClientKey(i), tally);
      }),
      during?.(elapsedMs),
    ]);
  } finally {
    await agent.close();
  }
  const wallSeconds = elapsedMs() / 1000;
  const stats = await control.stats();
  const upstreamBySystem = Object.fromEntries(SYSTEMS.map((system) => [system, stats[system].total])) as Record<SystemName, number>;
  const upstreamCalls = SYSTEMS.reduce((sum, system) => sum + stats[system].total, 0);
  const answers = tally.latencies.length;
  const share = (n: number) => Math.round((n / answers) * 1000) / 1000;
  return {
    seconds: Math.round(wallSeconds * 10) / 10,
    answers,
    answersPerSecond: Math.round((answers / wallSeconds) * 10) / 10,
    complete: share(tally.outcomes.complete),
    partial: share(tally.outcomes.partial),
    failed: share(tally.outcomes.failed),
    gateway5xx: tally.gateway5xx,
    errorCodes: tally.errorCodes,
    upstreamCalls,
    upstreamPerAnswer: Math.round((upstreamCalls / answers) * 100) / 100,
    upstreamBySystem,
    latencyMs: distribution(tally.latencies),
  };
}

/** Polls /readyz until `stop` says so, recording each change of a source's breaker state. */
async function watchBreakers(readyzUrl: string, elapsedMs: () => number, stop: () => boolean): Promise<BreakerChange[]> {
  const changes: BreakerChange[] = [];
  const last = new Map<string, string>();
  while (!stop()) {
    try {
      const report = (await (await fetch(readyzUrl)).json()) as { sources: Record<string, { breaker?: { state: string } }> };
      for (const [source, health] of Object.entries(report.sources)) {
        const state = health.breaker?.state ?? 'none';
        const before = last.get(source);
        // The first look only sets the baseline, unless a breaker is not closed already.
        if (before === undefined ? state !== 'closed' : before !== state) changes.push({ atSecond: Math.round(elapsedMs() / 100) / 10, source, state });
        last.set(source, state);
      }
    } catch {
      // The gateway is busy; the next poll will tell.
    }
    await sleep(250);
  }
  return changes;
}

export async function runSoak(graphqlUrl: string, control: SandboxControl, operation: Operation, options: SoakOptions): Promise<SoakResult> {
  const faultFree = await runPhase(graphqlUrl, control, operation, options.clients, options.faultFreeSeconds);

  const { atSecond, forSeconds } = options.supportOutage;
  let breakerChanges: BreakerChange[] = [];
  await control.setKnobs('orders', { errorRate: options.ordersErrorRate, seed: 42 });
  let faulted: SoakPhase;
  try {
    faulted = await runPhase(graphqlUrl, control, operation, options.clients, options.seconds, async (elapsedMs) => {
      let done = false;
      const watching = watchBreakers(new URL('/readyz', graphqlUrl).toString(), elapsedMs, () => done);
      await sleep(atSecond * 1000 - elapsedMs());
      // Over HTTP the outage ends by itself: the control endpoint goes down with the desk.
      await control.setKnobs('support', { outageMs: forSeconds * 1000 });
      await sleep(Math.max(0, options.seconds * 1000 - elapsedMs()));
      done = true;
      breakerChanges = await watching;
    });
  } finally {
    await control.setKnobs('orders', { errorRate: 0 });
  }
  return {
    clients: options.clients,
    faults: `order system: ${options.ordersErrorRate * 100}% of requests answered 503 throughout; support desk: connections refused from ${atSecond} s to ${atSecond + forSeconds} s`,
    faultFree,
    faulted,
    breakerChanges,
  };
}

export function formatSoak(soak: SoakResult): string {
  const pct = (share: number) => `${(share * 100).toFixed(1)}%`;
  const row = (name: string, phase: SoakPhase) => [
    name,
    `${phase.seconds} s`,
    String(phase.answers),
    phase.answersPerSecond.toFixed(1),
    pct(phase.complete),
    pct(phase.partial),
    pct(phase.failed),
    String(phase.gateway5xx),
    phase.upstreamPerAnswer.toFixed(2),
    String(Math.round(phase.latencyMs.p50)),
    String(Math.round(phase.latencyMs.p95)),
  ];
  const rows = [
    ['run', 'length', 'answers', 'answers/s', 'complete', 'partial', 'failed', 'gateway 5xx', 'upstream/answer', 'p50 ms', 'p95 ms'],
    row('fault-free', soak.faultFree),
    row('faulted', soak.faulted),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const table = rows.map((r) => r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ')).join('\n');
  const codes = (phase: SoakPhase) => Object.entries(phase.errorCodes).map(([code, n]) => `${code} ${n}`).join(', ') || 'none';
  return [
    `Soak: ${soak.clients} closed-loop clients on the customer 360; ${soak.faults}`,
    '',
    table,
    '',
    `upstream calls per answer, faulted vs fault-free: ${(soak.faulted.upstreamPerAnswer / soak.faultFree.upstreamPerAnswer).toFixed(2)}x ` +
      `(faulted by system: ${SYSTEMS.map((s) => `${s} ${soak.faulted.upstreamBySystem[s]}`).join(', ')})`,
    `error codes in faulted answers: ${codes(soak.faulted)}`,
    `breaker changes: ${soak.breakerChanges.map((c) => `${c.source} ${c.state} at ${c.atSecond} s`).join('; ') || 'none'}`,
  ].join('\n');
}
