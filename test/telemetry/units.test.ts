/** The small decisions of telemetry: when tracing starts, how cost and breaker state are read. */
import { costOf } from '../../src/server/operation-telemetry';
import { tracingRequested } from '../../src/telemetry/tracing';

describe('tracingRequested', () => {
  it.each<[NodeJS.ProcessEnv, boolean]>([
    [{}, false],
    [{ OTEL_TRACES_EXPORTER: 'none' }, false],
    [{ OTEL_TRACES_EXPORTER: 'otlp' }, true],
    [{ OTEL_TRACES_EXPORTER: 'console' }, true],
    [{ OTEL_TRACES_EXPORTER: 'otlp,console' }, true],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' }, true],
    [{ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://127.0.0.1:4318/v1/traces' }, true],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_TRACES_EXPORTER: 'none' }, false],
    [{ OTEL_TRACES_EXPORTER: 'otlp', OTEL_SDK_DISABLED: 'true' }, false],
  ])('%j -> %s', (env, expected) => {
    expect(tracingRequested(env)).toBe(expected);
  });
});

describe('costOf', () => {
  it('reads the actual cost, else the requested one, else a bare number', () => {
    expect(costOf({ extensions: { cost: { requestedQueryCost: 120, actualQueryCost: 87 } } })).toBe(87);
    expect(costOf({ extensions: { cost: { requestedQueryCost: 120 } } })).toBe(120);
    expect(costOf({ extensions: { cost: 42 } })).toBe(42);
    expect(costOf({ data: {} })).toBeUndefined();
    expect(costOf({ extensions: { cost: 'high' } })).toBeUndefined();
    expect(costOf({ extensions: { cost: { dryRun: true, requestedQueryCost: 120 } } })).toBeUndefined();
  });
});
