/**
 * Every error a user can see is a LadingError with a code; the code decides the exit status.
 * Callers branch on `code`, never on message text.
 */
export type ErrorCode =
  /** Bad arguments, unknown command, invalid config/policy/VEX file: exit 2. */
  | 'USAGE'
  | 'CONFIG'
  | 'INVALID_VERSION'
  /** The answer is "no": exit 1. */
  | 'GATE_FAILED'
  | 'VERIFY_FAILED'
  /** Operational errors: exit 3. */
  | 'IO'
  | 'BAD_INPUT'
  | 'DIGEST_MISMATCH'
  | 'NOT_FOUND'
  | 'NETWORK'
  | 'REGISTRY'
  | 'AUTH'
  | 'NO_DB'
  | 'DB'
  | 'LIMIT'
  /**
   * The caller's AbortSignal fired (the CLI's Ctrl-C): exit 130, the shell's convention for a command ended by
   * SIGINT (128 + signal 2), so scripts can tell "interrupted" from "failed".
   */
  | 'ABORTED';

export const EXIT = { OK: 0, NO: 1, USAGE: 2, OPERATIONAL: 3, INTERRUPTED: 130 } as const;

export function exitCodeFor(code: ErrorCode): number {
  switch (code) {
    case 'USAGE':
    case 'CONFIG':
    case 'INVALID_VERSION':
      return EXIT.USAGE;
    case 'GATE_FAILED':
    case 'VERIFY_FAILED':
      return EXIT.NO;
    case 'ABORTED':
      return EXIT.INTERRUPTED;
    default:
      return EXIT.OPERATIONAL;
  }
}

export class LadingError extends Error {
  readonly code: ErrorCode;
  /**
   * The caller's option the error is about (`offline`, `insecureRegistries`, …), when its remedy is to change it.
   * The message names it in the engine's own terms, `the <option> option`, or starts with its value; a front end
   * may put its own name there (the CLI puts the flag: `--offline`, `--insecure-registry`).
   */
  readonly option: string | undefined;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; option?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'LadingError';
    this.code = code;
    this.option = options?.option;
  }

  get exitCode(): number {
    return exitCodeFor(this.code);
  }
}

export function isLadingError(err: unknown): err is LadingError {
  return err instanceof LadingError;
}

/** One line for a user, whatever was thrown (node system errors carry their own codes). */
export function describeError(err: unknown): string {
  if (err instanceof Error) {
    const sys = err as NodeJS.ErrnoException;
    if (!(err instanceof LadingError) && sys.code && sys.path) return `${sys.path}: ${explainErrno(sys.code)}`;
    const limit = err instanceof LadingError ? undefined : engineLimitWords(err);
    if (limit) return limit;
    const line = err.message.split('\n')[0] ?? '';
    // A bug of ours, not a problem with the input: said so, so that nobody takes it for an answer about the image.
    if (err instanceof TypeError || err instanceof ReferenceError) return `internal error: ${line}`;
    return line;
  }
  return thrownValueText(err);
}

/**
 * The JavaScript engine's own limits, hit by input too large or too deeply nested for one value: V8's words
 * ("Invalid string length") mean nothing to a user.
 */
function engineLimitWords(err: Error): string | undefined {
  if (!(err instanceof RangeError)) return undefined;
  if (/Maximum call stack size exceeded/.test(err.message)) {
    return 'input nested too deeply to process (the call stack overflowed)';
  }
  if (/Invalid string length|Invalid array length|Array buffer allocation failed/.test(err.message)) {
    return 'input too large to process (a value past what the JavaScript engine can hold)';
  }
  return undefined;
}

/**
 * Something thrown that is not an Error, as one line: a string as it is, anything else as short JSON, never
 * `[object Object]`.
 */
export function thrownValueText(value: unknown): string {
  if (value instanceof Error) return value.message;
  if (typeof value === 'string') return value;
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch {
    json = undefined;
  }
  const text = json === undefined || json === '{}' ? `unexpected ${typeof value} thrown` : json;
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

function explainErrno(code: string): string {
  switch (code) {
    case 'ENOENT':
      return 'no such file or directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'is a directory';
    case 'ENOTDIR':
      return 'not a directory';
    case 'ENOSPC':
      return 'no space left on device';
    case 'EDQUOT':
      return 'disk quota exceeded';
    case 'EROFS':
      return 'read-only file system';
    default:
      return code;
  }
}
