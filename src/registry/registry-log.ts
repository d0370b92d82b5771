import { defaultLogger } from '../telemetry/logger';

/** Where the registry tells what it did: one JSON object per event (swaps, reload failures, imports). */
export type RegistryLog = (event: Record<string, unknown>) => void;

/** Registry events go to the application log, as one JSON line each. */
export const writeLog: RegistryLog = (event) => {
  const { level, msg, ...fields } = event;
  const logger = defaultLogger();
  const write = level === 'error' ? logger.error.bind(logger) : level === 'warn' ? logger.warn.bind(logger) : logger.info.bind(logger);
  write(fields, String(msg));
};
