import type { Gateway } from '../federation/gateway';
import type { FederationContext, RequestHooks } from '../federation/request-context';

/** One request's hold on a generation: its schema and its connectors, until it is answered. */
export interface PinnedGeneration {
  readonly gateway: Gateway;
  /** The schema version the request runs on. */
  readonly version: number;
  /** Call once, when the response has ended. */
  release(): void;
}

interface Generation {
  gateway: Gateway;
  version: number;
  inFlight: number;
  retired: boolean;
  /** Resolved when a retired generation's last request has ended and its connectors are closed. */
  closed?: Promise<void>;
  drained?: () => void;
}

/**
 * The gateway that serves: one generation (schema, connectors, joins) at a time, swapped
 * atomically. A request pins the generation that is current when it arrives and keeps it to the
 * end, so requests in flight finish on the schema they started with; a replaced generation
 * closes its connectors once its last request has ended.
 *
 * It is a Gateway itself (the current generation's), so code that reads the gateway between
 * requests (readiness, metrics) always sees the live one.
 */
export class LiveGateway implements Gateway {
  private current: Generation;
  private readonly retiring = new Set<Generation>();
  private closing: Promise<void> | undefined;

  constructor(
    initial: Gateway,
    version = 0,
    /** Called by close() after the generations are closed (the registry closes its store there). */
    private readonly onClose: () => Promise<void> = async () => undefined,
  ) {
    this.current = { gateway: initial, version, inFlight: 0, retired: false };
  }

  get version(): number {
    return this.current.version;
  }

  get schema(): Gateway['schema'] {
    return this.current.gateway.schema;
  }

  get canonical(): Gateway['canonical'] {
    return this.current.gateway.canonical;
  }

  get config(): Gateway['config'] {
    return this.current.gateway.config;
  }

  get catalog(): Gateway['catalog'] {
    return this.current.gateway.catalog;
  }

  get connectors(): Gateway['connectors'] {
    return this.current.gateway.connectors;
  }

  get upstreamCache(): Gateway['upstreamCache'] {
    return this.current.gateway.upstreamCache;
  }

  get env(): Gateway['env'] {
    return this.current.gateway.env;
  }

  get store(): Gateway['store'] {
    return this.current.gateway.store;
  }

  createContext(hooks?: RequestHooks, caller?: Parameters<Gateway['createContext']>[1]): FederationContext {
    return this.current.gateway.createContext(hooks, caller);
  }

  pin(): PinnedGeneration {
    const generation = this.current;
    generation.inFlight += 1;
    let released = false;
    return {
      gateway: generation.gateway,
      version: generation.version,
      release: () => {
        if (released) return;
        released = true;
        generation.inFlight -= 1;
        if (generation.retired && generation.inFlight === 0) generation.drained?.();
      },
    };
  }

  /** Makes `gateway` current at `version`; the previous generation closes after its last request. */
  swap(gateway: Gateway, version: number): void {
    if (this.closing) throw new Error('The gateway is closing: it takes no new schema');
    const previous = this.current;
    this.current = { gateway, version, inFlight: 0, retired: false };
    this.retire(previous);
  }

  private retire(generation: Generation): void {
    generation.retired = true;
    this.retiring.add(generation);
    generation.closed = new Promise<void>((resolve) => {
      generation.drained = resolve;
      if (generation.inFlight === 0) resolve();
    }).then(async () => {
      await generation.gateway.close();
      this.retiring.delete(generation);
    });
  }

  /** Generations replaced but still serving requests that started on them. */
  get draining(): number {
    return this.retiring.size;
  }

  /** Resolves once every generation replaced so far has served its last request and closed. */
  async retired(): Promise<void> {
    await Promise.all([...this.retiring].map((generation) => generation.closed));
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.retire(this.current);
      await Promise.all([...this.retiring].map((generation) => generation.closed));
      await this.onClose();
    })();
    return this.closing;
  }
}
