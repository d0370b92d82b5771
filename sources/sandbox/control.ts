/**
 * `/_sandbox/*`: how tests and benchmarks steer a running sandbox from outside its process.
 * These requests are neither counted, delayed, faulted nor traced, so steering never disturbs what
 * is being measured. Errors here use one plain shape, `{ error, message }`, whatever the system.
 */
import { parseKnobChange, type KnobChange, type Knobs } from './faults';
import { route, Router, type JsonReply } from './router';
import type { SandboxStats } from './stats';

/** What the control endpoints act on. */
export interface ControlTarget {
  stats(): SandboxStats;
  resetStats(): void;
  knobs(): Knobs;
  /**
   * Applies a change that has been checked already. An outage starts once the control answer has
   * been sent: the control endpoint goes down with the system.
   */
  applyFromControl(change: KnobChange): Knobs;
  revokeTokens(): void;
}

export const CONTROL_PREFIX = '/_sandbox/';

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
    route('POST /_sandbox/revoke-tokens', () => {
      target.revokeTokens();
      return { status: 204, body: undefined };
    }),
  ]);
}

/** Validates the whole body before applying anything, so a bad request changes nothing. */
function applyKnobs(text: string, target: ControlTarget): JsonReply {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return controlError(400, 'invalid_json', 'knobs body must be a JSON object such as {"latencyMs": 25, "errorRate": 0.2}');
  }
  const checked = parseKnobChange(parsed);
  if (!checked.ok) return controlError(400, 'invalid_knobs', checked.message);
  return { status: 200, body: target.applyFromControl(checked.change) };
}
