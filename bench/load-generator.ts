/**
 * The benchmark's load generator in a process of its own, so that generating load takes no CPU
 * from the benchmark's bookkeeping and shares an event loop with no gateway:
 *
 *   node dist/bench/load-generator.js      (started by the benchmark with an IPC channel)
 *
 * Prints one JSON line, `{"ready": true}`, then runs each `{"kind": "run", spec}` it is sent (see
 * load-protocol.ts) with autocannon, and answers with the run's result. Requests are built by
 * autocannon on raw sockets (no fetch or undici machinery per request); every answer is still
 * checked: a 200 whose JSON body has no `errors` and names the id it was asked for. Exits on
 * SIGTERM or SIGINT, and when its stdin ends or its IPC channel closes (the benchmark is gone).
 */
import { parseLoadMessage, type LoadAnswer, type LoadSpec } from './load-protocol';
import { loadRunning, runLoad, stopLoad } from './load-run';

function answer(message: LoadAnswer): void {
  process.send?.(message);
}

function main(): void {
  if (!process.send) throw new Error('load-generator.js runs as a child with an IPC channel (see bench/children.ts startIpcChild)');
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    stopLoad();
    process.exit(0);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  process.once('disconnect', stop);
  process.stdin.once('end', stop);
  process.stdin.once('error', stop);
  process.stdin.resume();

  process.on('message', (message: unknown) => {
    let spec: LoadSpec;
    try {
      ({ spec } = parseLoadMessage(message));
    } catch (error) {
      answer({ kind: 'error', message: error instanceof Error ? error.message : String(error) });
      return;
    }
    if (loadRunning()) {
      answer({ kind: 'error', message: 'a run is already under way' });
      return;
    }
    runLoad(spec).then(
      (result) => answer({ kind: 'result', result }),
      (error: unknown) => answer({ kind: 'error', message: error instanceof Error ? error.message : String(error) }),
    );
  });
  process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
}

main();
