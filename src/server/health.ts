import type { Gateway } from '../federation/gateway';

export interface SourceReadiness {
  state: 'unknown' | 'up' | 'failing';
  lastErrorCode?: string;
  lastCallAt?: string;
}

export interface ReadinessReport {
  status: 'ready' | 'draining';
  sources: Record<string, SourceReadiness>;
}

/**
 * Ready while the gateway accepts requests. A failing source does not make the gateway unready:
 * it still answers, with partial data and errors that name the source.
 */
export function readiness(gateway: Gateway, draining: boolean): ReadinessReport {
  const sources: Record<string, SourceReadiness> = {};
  for (const [name, connector] of gateway.connectors) sources[name] = connector.http.health();
  return { status: draining ? 'draining' : 'ready', sources };
}
