/**
 * What a chaos test checks after the storm: no promise was rejected without a handler, and no
 * socket was left open.
 */
import { createHook } from 'node:async_hooks';

/** Collects unhandled rejections from now until `stop()`. */
export function watchUnhandledRejections(): { rejections: unknown[]; stop(): void } {
  const rejections: unknown[] = [];
  const listener = (reason: unknown) => rejections.push(reason);
  process.on('unhandledRejection', listener);
  return { rejections, stop: () => process.off('unhandledRejection', listener) };
}

/** TCP sockets and listeners this process holds open. */
export function openSockets(): number {
  return process.getActiveResourcesInfo().filter((kind) => kind === 'TCPSocketWrap' || kind === 'TCPServerWrap').length;
}

/**
 * Resolves once no more sockets are open than `baseline`, or after `withinMs` (the bound of a
 * failure, not a wait), with how many are open then. Woken by each closed handle (async_hooks'
 * destroy event), not by polling.
 */
export function socketsSettle(baseline: number, withinMs = 2_000): Promise<number> {
  if (openSockets() <= baseline) return Promise.resolve(openSockets());
  return new Promise((resolve) => {
    const settle = () => {
      hook.disable();
      clearTimeout(bound);
      resolve(openSockets());
    };
    const hook = createHook({
      destroy: () => {
        if (openSockets() <= baseline) settle();
      },
    }).enable();
    const bound = setTimeout(settle, withinMs);
    // A socket may have closed between the first look and the hook's start.
    if (openSockets() <= baseline) settle();
  });
}
