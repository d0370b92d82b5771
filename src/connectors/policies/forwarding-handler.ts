/**
 * The base of every policy's handler: it hands each event of a request on, unchanged, to the handler
 * of the layer above. A policy overrides only the events it cares about (the way undici's own
 * decorator handlers do), so that the whole lifecycle is forwarded in exactly one place.
 */
import type { Duplex } from 'node:stream';
import type { Dispatcher } from 'undici';

export type Headers = Parameters<NonNullable<Dispatcher.DispatchHandler['onResponseStart']>>[2];

export class ForwardingHandler implements Dispatcher.DispatchHandler {
  constructor(protected readonly handler: Dispatcher.DispatchHandler) {}

  onRequestStart(controller: Dispatcher.DispatchController, context: unknown): void {
    this.handler.onRequestStart?.(controller, context);
  }

  onRequestUpgrade(controller: Dispatcher.DispatchController, statusCode: number, headers: Headers, socket: Duplex): void {
    this.handler.onRequestUpgrade?.(controller, statusCode, headers, socket);
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: Headers, statusMessage?: string): void {
    this.handler.onResponseStart?.(controller, statusCode, headers, statusMessage);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.handler.onResponseData?.(controller, chunk);
  }

  onResponseEnd(controller: Dispatcher.DispatchController, trailers: Headers): void {
    this.handler.onResponseEnd?.(controller, trailers);
  }

  onResponseError(controller: Dispatcher.DispatchController, error: Error): void {
    this.handler.onResponseError?.(controller, error);
  }
}

/**
 * Fails a request that a policy refuses before it reaches the layer below. There is no controller
 * yet; undici's own interceptors (dns) pass null in this case, and its handlers accept it.
 */
export function refuse(handler: Dispatcher.DispatchHandler, error: Error): void {
  handler.onResponseError?.(null as unknown as Dispatcher.DispatchController, error);
}
