import { LadingError } from './lading-error.js';

/** The one error an operation stopped by its caller's AbortSignal rejects with (exit 130). */
export function abortedError(): LadingError {
  return new LadingError('ABORTED', 'interrupted');
}

/** Throws `abortedError()` once `signal` has fired: the cheap check long loops make between steps. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortedError();
}

/**
 * Rejects with `abortedError()` as soon as `signal` fires, else settles as `work` does. `onLate` gets the value of
 * a `work` that resolves after the abort, so it can be released (a response body, a file handle).
 */
export function untilAborted<T>(
  work: Promise<T>,
  signal: AbortSignal | undefined,
  onLate?: (value: T) => void,
): Promise<T> {
  if (!signal) return work;
  if (signal.aborted) {
    work.then(
      (v) => onLate?.(v),
      () => {},
    );
    return Promise.reject(abortedError());
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortedError());
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        if (signal.aborted) onLate?.(value);
        else resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(signal.aborted ? abortedError() : err);
      },
    );
  });
}
