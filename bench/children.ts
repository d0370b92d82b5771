/**
 * The benchmark's child processes: the sandbox systems (`virtualize sandbox`) and each gateway under
 * test (`serve-gateway.js`) run in their own Node process, so that neither shares an event loop with
 * the load-generating client or with each other. A child announces itself with one JSON line on
 * stdout; it is stopped by its pid with SIGTERM (SIGKILL if it has not exited a few seconds later).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { PROJECT_ROOT } from './project';

export interface Child<T> {
  readonly label: string;
  readonly pid: number;
  /** What the child printed as its first line, parsed. */
  readonly announced: T;
  /** SIGTERM by pid, wait for the exit; SIGKILL after `graceMs`. Safe to call twice. */
  stop(): Promise<void>;
}

const STARTUP_TIMEOUT_MS = 15_000;
const STOP_GRACE_MS = 5_000;

/** Every child spawned and not yet seen exiting, for `terminateAllNow`. */
const alive = new Set<ChildProcess>();

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

function signal(child: ChildProcess, name: NodeJS.Signals): void {
  if (child.pid === undefined || exited(child)) return;
  try {
    process.kill(child.pid, name);
  } catch {
    // already gone
  }
}

/** For the watchdog and signal handlers: SIGTERM every child still running, without waiting. */
export function terminateAllNow(): void {
  for (const child of alive) signal(child, 'SIGTERM');
}

function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (exited(child)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.off('exit', onExit);
      resolve(false);
    }, ms);
    const onExit = () => {
      clearTimeout(timer);
      resolve(true);
    };
    child.once('exit', onExit);
  });
}

/**
 * Runs `node <args>` from the project root and waits for its first stdout line, which `parse` turns
 * into what the child announces (URLs). Later stdout lines go to stderr, labelled; stderr is shared.
 * stdin is a pipe the parent never writes to: a child that watches it learns when the parent is gone.
 */
export async function startChild<T>(
  label: string,
  args: readonly string[],
  parse: (value: unknown) => T,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Child<T>> {
  const child = spawn(process.execPath, args, { cwd: PROJECT_ROOT, stdio: ['pipe', 'pipe', 'inherit'], env });
  alive.add(child);
  child.once('exit', () => alive.delete(child));
  child.once('error', () => alive.delete(child));

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (exited(child)) return;
      signal(child, 'SIGTERM');
      if (await waitForExit(child, STOP_GRACE_MS)) {
        if (child.exitCode !== 0) console.error(`bench: ${label} (pid ${child.pid}) exited with ${child.exitCode ?? child.signalCode} on SIGTERM`);
        return;
      }
      console.error(`bench: ${label} (pid ${child.pid}) still running ${STOP_GRACE_MS / 1000} s after SIGTERM; sending SIGKILL`);
      signal(child, 'SIGKILL');
      await waitForExit(child, STOP_GRACE_MS);
    })();
    return stopping;
  };

  const lines = createInterface({ input: child.stdout! });
  try {
    const announced = await new Promise<T>((resolve, reject) => {
      const fail = (error: Error) => {
        clearTimeout(timer);
        reject(error);
      };
      const timer = setTimeout(() => fail(new Error(`${label} did not announce itself within ${STARTUP_TIMEOUT_MS / 1000} s`)), STARTUP_TIMEOUT_MS);
      child.once('error', (error) => fail(new Error(`${label} could not be started: ${error.message}`)));
      child.once('exit', (code, sig) => fail(new Error(`${label} exited (${code ?? sig}) before announcing itself`)));
      let first = true;
      lines.on('line', (line) => {
        if (!first) {
          console.error(`[${label}] ${line}`);
          return;
        }
        first = false;
        clearTimeout(timer);
        try {
          resolve(parse(JSON.parse(line)));
        } catch (error) {
          reject(new Error(`${label} announced ${JSON.stringify(line.slice(0, 200))}: ${error instanceof Error ? error.message : String(error)}`));
        }
      });
    });
    return { label, pid: child.pid!, announced, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
