import { AsyncResource } from 'node:async_hooks';
import { Client, Pool, type Dispatcher } from 'undici';

/** The async context each request was dispatched in, kept until a connection takes the request. */
const callers = new WeakMap<Dispatcher.DispatchOptions, AsyncResource>();

class CallerContextClient extends Client {
  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    const caller = callers.get(options);
    return caller ? caller.runInAsyncScope(() => super.dispatch(options, handler)) : super.dispatch(options, handler);
  }
}

/**
 * An undici Pool that hands each request to a connection in the async context of the code that
 * asked for it.
 *
 * A Pool whose connections are all busy queues the request and dispatches it later, from the
 * callback of whichever response freed a connection: in that response's async context, which
 * belongs to another call and often to another GraphQL request. Everything that reads the context
 * when undici creates the request (the OpenTelemetry undici instrumentation parents its client
 * span there and derives the `traceparent` it sends; the upstream call's route and batch size are
 * read there too) would then see the wrong call. Remembering the caller's context with the request
 * options and restoring it when a connection takes them keeps every call in its own trace, however
 * long it waited for a connection.
 */
export class CallerContextPool extends Pool {
  constructor(url: string | URL, options: Pool.Options = {}) {
    super(url, { ...options, factory: (origin, clientOptions) => new CallerContextClient(origin, clientOptions) });
  }

  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    callers.set(options, new AsyncResource('virtualize.upstream-request'));
    return super.dispatch(options, handler);
  }
}
