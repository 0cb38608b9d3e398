// `--timeout` (env LADING_TIMEOUT): one deadline for the whole command. When it passes, the command's signal aborts,
// so the engine closes its files and sockets and stops; main() then reports "timed out after …" with exit 3. Code
// that cannot see the signal (a command that takes none) is ended by a backstop shortly after.
import { EXIT } from '@lading/engine/errors';

/** After the signal fired, how long a command may take to unwind before the process is ended anyway. */
const BACKSTOP_GRACE_MS = 2000;

let controller: AbortController | undefined;
let limitWords: string | undefined;
let expired = false;

/**
 * `30`, `30s`, `5m`, `1h`, `1500ms`: milliseconds. Zero, negatives and anything else are a usage error (thrown as
 * an Error whose message the caller shows).
 */
export function parseDuration(value: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/i.exec(value);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m?.[2] ?? 's').toLowerCase() as 'ms' | 's' | 'm' | 'h'];
  const ms = m ? Math.round(Number(m[1]) * unit) : Number.NaN;
  if (!Number.isFinite(ms) || ms <= 0) {
    throw new Error(`invalid duration "${value}" (expected a positive number with ms, s, m or h, e.g. 30s or 5m)`);
  }
  return ms;
}

/** Starts the command's deadline; `words` is how the user wrote it (`30s`). */
export function startDeadline(ms: number, words: string): void {
  controller = new AbortController();
  limitWords = words;
  const fire = () => {
    expired = true;
    controller?.abort();
    const backstop = setTimeout(() => {
      process.stderr.write(`lading: ${timeoutMessage()}\n`);
      process.exit(EXIT.OPERATIONAL);
    }, BACKSTOP_GRACE_MS);
    backstop.unref();
  };
  // unref: a command that finished before its deadline exits without waiting for it
  setTimeout(fire, ms).unref();
}

/** The deadline's signal, when `--timeout` was given. */
export function deadlineSignal(): AbortSignal | undefined {
  return controller?.signal;
}

/** `signal` stopped by the deadline too. */
export function withDeadline(signal: AbortSignal): AbortSignal {
  const deadline = deadlineSignal();
  return deadline ? AbortSignal.any([signal, deadline]) : signal;
}

/** `{ signal }` for options objects: the deadline's signal, or nothing. */
export function deadlineOption(): { signal?: AbortSignal } {
  const signal = deadlineSignal();
  return signal ? { signal } : {};
}

/** Did the deadline pass? (Then any error the command ended with is reported as the timeout.) */
export function timedOut(): boolean {
  return expired;
}

export function timeoutMessage(): string {
  return `timed out after ${limitWords ?? 'the --timeout'}`;
}
