/**
 * Starts tracing from the `OTEL_*` environment before anything else is loaded, so that nothing
 * escapes instrumentation. The `virtualize` command loads it first; a program that embeds the
 * gateway loads it the same way:
 *
 *   node --require virtualize/dist/src/telemetry/register.js server.js
 *
 * or calls `startTracing()` at the very top of its entry module, and `stopTracing()` on shutdown
 * to flush what is still buffered. Without tracing configured it does nothing and loads no SDK.
 */
import { startTracing } from './tracing';

startTracing();
