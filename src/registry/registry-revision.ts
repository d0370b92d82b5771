import type { Gateway } from '../federation/gateway';
import type { LiveGateway } from './live-gateway';
import type { RegistryLog } from './registry-log';
import type { RegistrySnapshot } from './registry-store';
import type { RegistryStatus } from './registry-reports';

/**
 * The revision this replica is on: the snapshot of the store it last read, how its last reload
 * went, and the swap that puts a built generation live. Changes and reloads go through
 * `serialize`, one at a time, so that each starts from the state the previous one left.
 */
export class RegistryRevision {
  /** Changes and reloads, one at a time. */
  private queue: Promise<unknown> = Promise.resolve();
  lastReload: RegistryStatus['lastReload'];

  constructor(
    readonly live: LiveGateway,
    /** The store's entries as last read or committed (it may be newer than the live schema when a reload failed). */
    public snapshot: RegistrySnapshot,
    private readonly log: RegistryLog,
  ) {}

  serialize<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Puts a built generation live and logs it; `started` is when its checks and build began. */
  swap(gateway: Gateway, revision: number, started: number, trigger: string, actor?: string): void {
    const previous = this.live.version;
    this.live.swap(gateway, revision);
    this.lastReload = { at: new Date().toISOString(), ok: true, revision };
    this.log({ level: 'info', msg: 'schema swapped', version: revision, previous, trigger, ...(actor ? { actor } : {}), buildMs: Math.round(performance.now() - started) });
  }
}
