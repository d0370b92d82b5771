import type { SourceHealth } from '../connectors/source-health';
import type { Gateway } from '../federation/gateway';

export interface ReadinessReport {
  status: 'ready' | 'draining';
  /** Per source: the latest call's outcome, its circuit breaker, its latest failure's code. No URL, no credential. */
  sources: Record<string, SourceHealth>;
}

/**
 * Ready while the gateway accepts requests. A failing source, even one whose breaker is open, does
 * not make the gateway unready: it still answers, with partial data and errors that name the source.
 */
export function readiness(gateway: Gateway, draining: boolean): ReadinessReport {
  const sources: Record<string, SourceHealth> = {};
  for (const [name, connector] of gateway.connectors) sources[name] = connector.http.health();
  return { status: draining ? 'draining' : 'ready', sources };
}
