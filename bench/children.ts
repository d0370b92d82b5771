/**
 * The benchmark's child processes: the sandbox systems (`virtualize sandbox`) and each gateway under
 * test (`serve-gateway.js`) run in their own Node process, so that neither shares an event loop with
 * the load-generating client or with each other. A child announces itself with one JSON line on
 * stdout; it is stopped by its pid with SIGTERM (SIGKILL if it has not exited a few seconds later).
 * A child started with an IPC channel (the load generator) also answers questions over it, one at a time.
 */
import { spawn, type ChildProcess, type Serializable } from 'node:child_process';
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

/** A child with an IPC channel: `ask` sends one message and resolves with the child's next message. */
export interface IpcChild<T> extends Child<T> {
  /** Rejects if the child exits or has not answered within `timeoutMs`; one question at a time. */
  ask(message: Serializable, timeoutMs: number): Promise<unknown>;
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

/** Stops the gateways first, then the sandboxes they call (by convention the first child started). */
export async function stopGatewaysThenSandboxes(children: ReadonlyArray<Child<unknown>>): Promise<void> {
  await Promise.allSettled(children.slice(1).map((child) => child.stop()));
  await children[0]?.stop();
}

/** Runs a benchmark's `main`: a failure prints its stack and sets a failing exit code. */
export function runMain(main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    process.exitCode = 1;
  });
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
  return (await spawnChild(label, args, parse, env, false)).handle;
}

/** As `startChild`, with an IPC channel to the child (`process.send` and `process.on('message')` there). */
export async function startIpcChild<T>(
  label: string,
  args: readonly string[],
  parse: (value: unknown) => T,
  env: NodeJS.ProcessEnv = process.env,
): Promise<IpcChild<T>> {
  const { handle, child } = await spawnChild(label, args, parse, env, true);
  let busy = false;
  const ask = (message: Serializable, timeoutMs: number): Promise<unknown> => {
    if (busy) return Promise.reject(new Error(`${label} is still answering the previous question`));
    if (exited(child) || !child.connected) return Promise.reject(new Error(`${label} (pid ${handle.pid}) is gone`));
    busy = true;
    return new Promise<unknown>((resolve, reject) => {
      const done = () => {
        busy = false;
        clearTimeout(timer);
        child.off('message', onMessage);
        child.off('exit', onExit);
      };
      const onMessage = (answer: unknown) => {
        done();
        resolve(answer);
      };
      const onExit = (code: number | null, sig: NodeJS.Signals | null) => {
        done();
        reject(new Error(`${label} (pid ${handle.pid}) exited (${code ?? sig}) before answering`));
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`${label} (pid ${handle.pid}) did not answer within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      child.on('message', onMessage);
      child.once('exit', onExit);
      child.send(message, (error) => {
        if (error) {
          done();
          reject(new Error(`${label} (pid ${handle.pid}) could not be sent a message: ${error.message}`));
        }
      });
    });
  };
  return { ...handle, ask };
}

async function spawnChild<T>(
  label: string,
  args: readonly string[],
  parse: (value: unknown) => T,
  env: NodeJS.ProcessEnv,
  ipc: boolean,
): Promise<{ handle: Child<T>; child: ChildProcess }> {
  const child = spawn(process.execPath, args, { cwd: PROJECT_ROOT, stdio: ipc ? ['pipe', 'pipe', 'inherit', 'ipc'] : ['pipe', 'pipe', 'inherit'], env });
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
    return { handle: { label, pid: child.pid!, announced, stop }, child };
  } catch (error) {
    await stop();
    throw error;
  }
}
