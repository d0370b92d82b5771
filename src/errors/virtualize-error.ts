import { ERROR_CODES, type ErrorCode } from './codes';

export interface VirtualizeErrorOptions {
  /** The failure underneath, for the log; never shown to clients. */
  cause?: unknown;
  /**
   * The HTTP status of this one refusal when it differs from its code's (an upload of a media type
   * the admin API does not read is BAD_USER_INPUT with 415).
   */
  status?: number;
  /** Headers the answer carries, e.g. `retry-after`. */
  headers?: Readonly<Record<string, string>>;
}

/**
 * The base of every error virtualize raises on purpose: a stable `code` from the one table
 * (`codes.ts`), the data fields a client may read beside it (they become `extensions` next to
 * `extensions.code`), and a message that says what to do. Without a message, the code's meaning
 * is the message. Users match on the code, never on the message.
 *
 * Rooms that need data of their own subclass it (a source failure keeps its source and route);
 * `toGraphQLError` turns any of them into the GraphQL error clients see.
 */
export class VirtualizeError<C extends ErrorCode = ErrorCode, D extends Readonly<Record<string, unknown>> = Readonly<Record<string, unknown>>> extends Error {
  readonly code: C;
  /** Fields for the client, beside the code. */
  readonly data: D;
  /** The HTTP status of the answer that carries this error, `null` when it never reaches HTTP. */
  readonly httpStatus: number | null;
  readonly headers: Readonly<Record<string, string>> | undefined;

  constructor(code: C, message?: string, data?: D, options: VirtualizeErrorOptions = {}) {
    super(message ?? ERROR_CODES[code].meaning, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.data = data ?? ({} as D);
    this.httpStatus = options.status ?? ERROR_CODES[code].status;
    this.headers = options.headers;
  }

  /** Whether the same request may succeed later. */
  get retryable(): boolean {
    return ERROR_CODES[this.code].retryable;
  }
}

export function isVirtualizeError(error: unknown): error is VirtualizeError {
  return error instanceof VirtualizeError;
}
