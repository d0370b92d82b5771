/** The benchmark's side of its load generator (bench/load-generator.ts): one child process, one run at a time. */
import { join } from 'node:path';
import { startIpcChild, type Child } from './children';
import { parseLoadAnswer, type LoadResult, type LoadSpec } from './load-protocol';

const LOAD_GENERATOR = join(__dirname, 'load-generator.js');

/** A run that has not answered after this long is given up (the benchmark's watchdog bounds the whole anyway). */
const RUN_TIMEOUT_MS = 120_000;

export interface LoadGenerator extends Child<true> {
  /** Runs `spec` in the child; rejects if the child fails, never with a partial result. */
  run(spec: LoadSpec): Promise<LoadResult>;
}

function parseReady(value: unknown): true {
  if ((value as { ready?: unknown } | null)?.ready !== true) throw new Error(`expected {"ready": true}, got ${JSON.stringify(value)}`);
  return true;
}

export async function startLoadGenerator(env: NodeJS.ProcessEnv = process.env): Promise<LoadGenerator> {
  const { ask, ...child } = await startIpcChild('load-generator', [LOAD_GENERATOR], parseReady, env);
  return {
    ...child,
    async run(spec) {
      const answer = parseLoadAnswer(await ask({ kind: 'run', spec: { ...spec } }, RUN_TIMEOUT_MS));
      if (answer.kind === 'error') throw new Error(`load generator: ${answer.message}`);
      return answer.result;
    },
  };
}
