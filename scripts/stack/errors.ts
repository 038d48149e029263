// The one error type the stack throws: each carries a code, whether retrying could help, and a
// message that tells the user what to do next.
export type StackErrorCode =
  | 'JAVA_MISSING'
  | 'MAVEN_MISSING'
  | 'PORT_TAKEN'
  | 'DOWNLOAD_FAILED'
  | 'START_FAILED'
  | 'START_TIMEOUT'
  | 'STOP_FAILED'
  | 'NOT_RUNNING'
  | 'LOCK_TIMEOUT';

export class StackError extends Error {
  override readonly name = 'StackError';
  readonly code: StackErrorCode;
  readonly retriable: boolean;

  constructor(code: StackErrorCode, message: string, options: { retriable?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retriable = options.retriable ?? false;
  }
}
