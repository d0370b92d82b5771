import pino from 'pino';

export type Logger = pino.Logger;
export type LogDestination = pino.DestinationStream;

/**
 * Fields censored wherever they appear at the top of a line or one level down. Nothing in
 * virtualize logs them today; this is the net under whoever logs a request, its headers, its
 * variables or a record tomorrow. Configured here once, for every logger.
 */
const REDACTED_PATHS = [
  'authorization',
  'cookie',
  'token',
  'password',
  'secret',
  'email',
  'variables',
  '["x-api-key"]',
  'headers.authorization',
  'headers.cookie',
  'headers["x-api-key"]',
  '*.authorization',
  '*.cookie',
  '*.token',
  '*.password',
  '*.secret',
  '*.email',
  '*.variables',
  '*["x-api-key"]',
  '*.headers.authorization',
  '*.headers.cookie',
  '*.headers["x-api-key"]',
];

/** A JSON-lines logger with the shared redaction; `log` names the stream each line belongs to. */
export function createLogger(log: string, destination: LogDestination, level = 'info'): Logger {
  return pino(
    {
      level,
      base: { log },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    },
    destination,
  );
}

/**
 * The same logger without the redaction net, for lines whose field names are all fixed by the code
 * that writes them (the operation and audit lines): the net censors by field name, so it can
 * match nothing there, and it costs some 20 µs per line, a tenth of a hot answer. A line that
 * carries an object a caller or a source sent (headers, variables, records) keeps the net.
 */
export function withoutRedaction(logger: Logger): Logger {
  return logger.child({}, { redact: { paths: [], censor: '[redacted]' } });
}

/**
 * Where a log goes, as an operator names it: `stdout`, `stderr`, `off`, or a file path (appended
 * to, directories created). Writes are asynchronous and flushed when the process exits.
 */
export function destinationOf(name: string): LogDestination | undefined {
  if (name === 'off') return undefined;
  if (name === 'stdout') return pino.destination({ dest: 1, sync: false });
  if (name === 'stderr') return pino.destination({ dest: 2, sync: false });
  return pino.destination({ dest: name, sync: false, append: true, mkdir: true });
}

/** A destination that drops every line. */
const DISCARD: LogDestination = { write: () => undefined };

let appLogger: Logger | undefined;
let auditLogger: Logger | undefined;

/**
 * The process's application log (one line per operation, warnings): stdout, at `LOG_LEVEL`
 * (default `info`). Created on first use.
 */
export function defaultLogger(env: NodeJS.ProcessEnv = process.env): Logger {
  appLogger ??= createLogger('app', destinationOf('stdout')!, env.LOG_LEVEL ?? 'info');
  return appLogger;
}

/**
 * The process's audit log (who asked for what, one line per operation), kept apart from the
 * application log so that it can be shipped and retained on its own terms:
 * `VIRTUALIZE_AUDIT_LOG` names its destination (default `stderr`; `off` disables it).
 */
export function defaultAuditLogger(env: NodeJS.ProcessEnv = process.env): Logger {
  auditLogger ??= createLogger('audit', destinationOf(env.VIRTUALIZE_AUDIT_LOG ?? 'stderr') ?? DISCARD);
  return auditLogger;
}
