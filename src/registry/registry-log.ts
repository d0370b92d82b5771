import type { Logger } from '../telemetry/logger';

/** Where the registry tells what it did: one JSON object per event (swaps, reload failures, imports). */
export type RegistryLog = (event: Record<string, unknown>) => void;

/** Registry events as lines of an application log: `level` and `msg` become the line's own. */
export function registryLogTo(logger: Logger): RegistryLog {
  return (event) => {
    const { level, msg, ...fields } = event;
    const write = level === 'error' ? logger.error.bind(logger) : level === 'warn' ? logger.warn.bind(logger) : logger.info.bind(logger);
    write(fields, String(msg));
  };
}

