/**
 * What tracing costs: the same gateway with tracing off and with tracing on (every span exported
 * over OTLP http/protobuf through the SDK's batch span processor to a local receiver), measured in
 * the same run, in interleaved rounds (off then on, then on then off, ...) so that a burst of
 * machine noise does not land on one side only.
 */
import { readFileSync } from 'node:fs';
import type { GraphQLClient } from './graphql-client';
import { measureConcurrent, measureSequential, type Operation, type SandboxControl } from './measure';

export interface TracingSide {
  /** Answers over the wall time of every concurrent round together. */
  throughputPerSecond: number;
  /**
   * CPU time the gateway process spent per answer in the concurrent rounds (Linux: from
   * /proc/<pid>/stat): the cost of tracing itself, unlike wall-clock figures, does not move with
   * what else the machine is running.
   */
  cpuMsPerAnswer: number | null;
  /** Median over the rounds of each round's p50. */
  concurrentP50Ms: number;
  sequentialP50Ms: number;
}

export interface TracingOverhead {
  rounds: number;
  clients: number;
  concurrentRequestsPerRound: number;
  sequentialRequestsPerRound: number;
  exporter: string;
  off: TracingSide;
  on: TracingSide;
  /** on / off: below 1 for throughput, above 1 for latency and CPU, is what tracing costs. */
  ratios: { throughput: number; concurrentP50: number; sequentialP50: number; cpuPerAnswer: number | null };
  /** What reached the receiver per traced answer. */
  spansPerAnswer: number;
  exportBytesPerAnswer: number;
  exportRequests: number;
}

export interface ReceiverStats {
  requests: number;
  bytes: number;
  spans: number;
}

/** CPU time (user + system) a process has used, in milliseconds; null where /proc is not there. */
export function processCpuMs(pid: number): number | null {
  try {
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th, in clock ticks (100 Hz on Linux).
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return null;
  }
}

const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};
const round1 = (n: number) => Math.round(n * 10) / 10;
const ratio = (a: number, b: number) => Math.round((a / b) * 1000) / 1000;

interface Rounds {
  answers: number;
  wallMs: number;
  /** null once any reading was unavailable. */
  cpuMs: number | null;
  concurrentP50s: number[];
  sequentialP50s: number[];
}

function side(rounds: Rounds): TracingSide {
  return {
    throughputPerSecond: round1((rounds.answers / rounds.wallMs) * 1000),
    cpuMsPerAnswer: rounds.cpuMs === null ? null : round1(rounds.cpuMs / rounds.answers),
    concurrentP50Ms: round1(median(rounds.concurrentP50s)),
    sequentialP50Ms: round1(median(rounds.sequentialP50s)),
  };
}

interface Gateway {
  client: GraphQLClient;
  pid: number;
}

export async function measureTracingOverhead(options: {
  off: Gateway;
  on: Gateway;
  control: SandboxControl;
  operation: Operation;
  rounds: number;
  /** Answers each gateway serves before the rounds, unmeasured. */
  warmups: number;
  clients: number;
  concurrentRequests: number;
  sequentialRequests: number;
  exporter: string;
  /** Stops the traced gateway, which flushes its last spans, and returns what the receiver got in all. */
  flushAndCount: () => Promise<ReceiverStats>;
}): Promise<TracingOverhead> {
  const empty = (): Rounds => ({ answers: 0, wallMs: 0, cpuMs: 0, concurrentP50s: [], sequentialP50s: [] });
  const results = { off: empty(), on: empty() };
  // The traced gateway starts cold, the other one has served the earlier phases: both are warmed
  // alike (compiled code, pools, heap) before anything is measured.
  for (const which of ['off', 'on'] as const) {
    await measureConcurrent(options[which].client, options.control, options.operation, { clients: options.clients, requests: options.warmups });
  }
  let tracedAnswers = options.warmups;
  for (let round = 0; round < options.rounds; round += 1) {
    const order = round % 2 === 0 ? (['off', 'on'] as const) : (['on', 'off'] as const);
    for (const which of order) {
      const { client, pid } = options[which];
      const sequential = await measureSequential(client, options.control, options.operation, { warmups: 1, requests: options.sequentialRequests });
      const cpuBefore = processCpuMs(pid);
      const concurrent = await measureConcurrent(client, options.control, options.operation, { clients: options.clients, requests: options.concurrentRequests });
      const cpuAfter = processCpuMs(pid);
      const rounds = results[which];
      rounds.answers += concurrent.latencyMs.n;
      rounds.wallMs += concurrent.wallMs;
      rounds.cpuMs = rounds.cpuMs === null || cpuBefore === null || cpuAfter === null ? null : rounds.cpuMs + cpuAfter - cpuBefore;
      rounds.concurrentP50s.push(concurrent.latencyMs.p50);
      rounds.sequentialP50s.push(sequential.latencyMs.p50);
      if (which === 'on') tracedAnswers += concurrent.latencyMs.n + sequential.latencyMs.n + sequential.warmups;
    }
  }
  const received = await options.flushAndCount();
  const off = side(results.off);
  const on = side(results.on);
  return {
    rounds: options.rounds,
    clients: options.clients,
    concurrentRequestsPerRound: options.concurrentRequests,
    sequentialRequestsPerRound: options.sequentialRequests,
    exporter: options.exporter,
    off,
    on,
    ratios: {
      throughput: ratio(on.throughputPerSecond, off.throughputPerSecond),
      concurrentP50: ratio(on.concurrentP50Ms, off.concurrentP50Ms),
      sequentialP50: ratio(on.sequentialP50Ms, off.sequentialP50Ms),
      cpuPerAnswer: on.cpuMsPerAnswer === null || off.cpuMsPerAnswer === null ? null : ratio(on.cpuMsPerAnswer, off.cpuMsPerAnswer),
    },
    spansPerAnswer: round1(received.spans / tracedAnswers),
    exportBytesPerAnswer: Math.round(received.bytes / tracedAnswers),
    exportRequests: received.requests,
  };
}
