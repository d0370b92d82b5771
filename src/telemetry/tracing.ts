import { context, propagation, trace, type Attributes, type Span } from '@opentelemetry/api';
import type { UndiciRequest } from '@opentelemetry/instrumentation-undici';
import type { NodeSDK, NodeSDKConfiguration } from '@opentelemetry/sdk-node';
import type { UpstreamCall } from '../connectors/upstream-call';
import { currentUpstreamRequest, type UpstreamRequest } from '../connectors/upstream-request';
import { ATTR, SEMCONV } from './attributes';
import { defaultLogger } from './logger';

export interface TracingOptions {
  /**
   * Span processors to use instead of the exporters the environment names (tests pass an
   * in-memory exporter). Given, tracing starts whatever the environment says.
   */
  spanProcessors?: NonNullable<NodeSDKConfiguration['spanProcessors']>;
}

/**
 * Tracing is off unless the environment asks for it: `OTEL_TRACES_EXPORTER` names an exporter
 * (`otlp`, `console`, `zipkin`; `none` keeps it off), or an OTLP endpoint is set
 * (`OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, which imply `otlp`).
 * `OTEL_SDK_DISABLED=true` keeps it off whatever else is set. The OpenTelemetry default (OTLP to
 * localhost:4318) would otherwise fill the log of every gateway without a collector with errors.
 */
export function tracingRequested(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return false;
  const exporters = env.OTEL_TRACES_EXPORTER?.split(',').map((name) => name.trim()).filter((name) => name !== '');
  if (exporters && exporters.length > 0) return !(exporters.length === 1 && exporters[0] === 'none');
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

/** What an upstream call's span says of it, whether it went to the source or the cache answered it. */
export function upstreamCallAttributes(call: Pick<UpstreamCall, 'source' | 'route' | 'batchSize' | 'cacheHit' | 'ageMs'> & { attempt: number }): Attributes {
  return {
    [ATTR.source]: call.source,
    [ATTR.route]: call.route,
    [ATTR.batchSize]: call.batchSize,
    [ATTR.attempt]: call.attempt,
    [ATTR.cacheHit]: call.cacheHit === true,
    ...(call.cacheHit === true && call.ageMs !== undefined ? { [ATTR.cacheAgeMs]: Math.round(call.ageMs) } : {}),
  };
}

/**
 * The URL of an upstream call as its client span shows it. A source call is named by its route
 * template (`http://crm:4101/services/data/v58.0/composite/sobjects/Contact`): its real URL carries
 * ids and emails. Any other request undici makes keeps its path but loses its query string.
 */
function upstreamSpanAttributes(request: UndiciRequest, call: UpstreamRequest | undefined): Attributes {
  if (!call) return { [SEMCONV.urlFull]: `${request.origin}${request.path.split('?')[0]}`, [SEMCONV.urlQuery]: undefined };
  const template = call.basePath + call.route.slice(call.route.indexOf(' ') + 1);
  return {
    [SEMCONV.urlFull]: `${request.origin}${template}`,
    [SEMCONV.urlPath]: template,
    [SEMCONV.urlTemplate]: template,
    [SEMCONV.urlQuery]: undefined,
    // A request being sent is, by its record, one the cache did not answer.
    ...upstreamCallAttributes(call),
  };
}

let running: { sdk: NodeSDK; stop(): void } | undefined;

/**
 * Starts OpenTelemetry tracing, configured by the standard `OTEL_*` environment variables
 * (exporter, OTLP endpoint and protocol (`http/protobuf`, `http/json`, `grpc`), sampler, batch
 * processor limits, resource attributes, propagators), when `tracingRequested` says so or
 * `spanProcessors` are given. Returns whether tracing runs.
 *
 * Call it before the gateway is loaded: `register.ts` does, for the `virtualize` command and for
 * `node --require`. Client spans come from `@opentelemetry/instrumentation-undici`, which listens
 * on undici's diagnostics channels, so it also sees Node's own `fetch`. Metrics and logs are not
 * sent over OTLP: metrics are served at /metrics, logs are JSON lines.
 */
export function startTracing(options: TracingOptions = {}): boolean {
  if (running) return true;
  if (!options.spanProcessors && !tracingRequested()) return false;
  // Required only now: loading the SDK takes about 600 ms, which a gateway without tracing never pays.
  const { NodeSDK } = require('@opentelemetry/sdk-node') as typeof import('@opentelemetry/sdk-node');
  const { UndiciInstrumentation } = require('@opentelemetry/instrumentation-undici') as typeof import('@opentelemetry/instrumentation-undici');

  const undici = new UndiciInstrumentation({
    // Both hooks run while undici creates the request, in the context of the call that asked for it.
    startSpanHook: (request) => upstreamSpanAttributes(request, currentUpstreamRequest()),
    requestHook: (span: Span) => {
      const call = currentUpstreamRequest();
      if (call) span.updateName(call.route);
    },
  });
  const named = Boolean(process.env.OTEL_SERVICE_NAME) || /(^|,)\s*service\.name=/.test(process.env.OTEL_RESOURCE_ATTRIBUTES ?? '');
  const sdk = new NodeSDK({
    ...(named ? {} : { serviceName: 'virtualize' }),
    instrumentations: [undici],
    ...(options.spanProcessors ? { spanProcessors: options.spanProcessors } : {}),
    // Left out, NodeSDK would add OTLP metric and log exporters of its own.
    metricReaders: [],
    logRecordProcessors: [],
  });
  sdk.start();
  running = { sdk, stop: () => undici.disable() };
  return true;
}

/**
 * Flushes and stops tracing. The instrumentation is unsubscribed first: one left listening would
 * make a later SDK in the same process send two `traceparent` headers on every request.
 */
export async function stopTracing(): Promise<void> {
  const current = running;
  running = undefined;
  if (!current) return;
  current.stop();
  // Spans that cannot be delivered now (the collector is gone) are lost either way; stopping goes on.
  await current.sdk.shutdown().catch((error: unknown) => {
    defaultLogger().warn({ reason: error instanceof Error ? error.message : String(error) }, 'tracing stopped without exporting its last spans');
  });
  // Released so that tracing can start again in this process.
  trace.disable();
  context.disable();
  propagation.disable();
}
