/**
 * What a chaos test checks after the storm: no promise was rejected without a handler, and no
 * socket was left open.
 */

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

/** Waits (up to `withinMs`) until no more sockets are open than `baseline`; returns how many are. */
export async function socketsSettle(baseline: number, withinMs = 2_000): Promise<number> {
  const deadline = Date.now() + withinMs;
  while (openSockets() > baseline && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 25));
  return openSockets();
}
