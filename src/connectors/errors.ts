/**
 * Failures of a source, each with a stable `code` that reaches the client as `extensions.code`.
 * Messages name the source and the route template, never a URL (it may carry ids or credentials).
 */
export type SourceErrorCode =
  | 'SOURCE_UNAVAILABLE'
  | 'SOURCE_TIMEOUT'
  | 'SOURCE_RATE_LIMITED'
  | 'SOURCE_BAD_RESPONSE'
  | 'SOURCE_REJECTED_REQUEST'
  /** The source answered the call but reported an error for this one value (a partial batch answer). */
  | 'SOURCE_PARTIAL_FAILURE';

export class SourceError extends Error {
  constructor(
    readonly code: SourceErrorCode,
    readonly source: string,
    readonly route: string,
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'SourceError';
  }
}

export function isSourceError(error: unknown): error is SourceError {
  return error instanceof SourceError;
}
