/**
 * `/_sandbox/*`: how tests and benchmarks steer a running sandbox from outside its process.
 * These requests are neither counted, delayed nor traced, so steering never disturbs what is
 * being measured. Errors here use one plain shape, `{ error, message }`, whatever the system.
 */
import { route, Router, type JsonReply } from './router';
import type { SandboxStats } from './stats';

/** Runtime settings of a sandbox, changed with `POST /_sandbox/knobs`. */
export interface Knobs {
  /** Delay added to every non-control request, in milliseconds. */
  latencyMs: number;
}

/** What the control endpoints act on. */
export interface ControlTarget {
  stats(): SandboxStats;
  resetStats(): void;
  knobs(): Knobs;
  setLatency(ms: number): void;
}

export const CONTROL_PREFIX = '/_sandbox/';

const KNOB_NAMES: ReadonlyArray<keyof Knobs> = ['latencyMs'];

export function controlError(status: number, error: string, message: string): JsonReply {
  return { status, body: { error, message } };
}

export function controlRouter(target: ControlTarget): Router {
  return new Router([
    route('GET /_sandbox/stats', () => ({ status: 200, body: target.stats() })),
    route('POST /_sandbox/reset', () => {
      target.resetStats();
      return { status: 204, body: undefined };
    }),
    route('GET /_sandbox/knobs', () => ({ status: 200, body: target.knobs() })),
    route('POST /_sandbox/knobs', ({ body }) => applyKnobs(body, target)),
  ]);
}

/** Validates the whole body before applying anything, so a bad request changes nothing. */
function applyKnobs(text: string, target: ControlTarget): JsonReply {
  const usage = 'knobs body must be a JSON object such as {"latencyMs": 25}';
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return controlError(400, 'invalid_json', usage);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return controlError(400, 'invalid_knobs', usage);
  }
  const unknownKeys = Object.keys(parsed).filter((key) => !(KNOB_NAMES as readonly string[]).includes(key));
  if (unknownKeys.length > 0) {
    return controlError(400, 'invalid_knobs', `unknown knob(s) ${unknownKeys.join(', ')}; known: ${KNOB_NAMES.join(', ')}`);
  }
  if ('latencyMs' in parsed) {
    const value: unknown = parsed.latencyMs;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      return controlError(400, 'invalid_knobs', `latencyMs must be a finite number >= 0, got ${JSON.stringify(value)}`);
    }
    target.setLatency(value);
  }
  return { status: 200, body: target.knobs() };
}
