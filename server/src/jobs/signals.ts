// In-process wake-ups for the job queue: the runner sleeps until something was enqueued (or its poll interval
// passes), and a long-polling `GET /jobs/{id}?wait=` sleeps until that job changed. Signals only shorten waits;
// the database stays the truth (another process's changes are seen at the next poll).
import { EventEmitter } from 'node:events';

export class JobSignals {
  readonly #events = new EventEmitter();

  constructor() {
    // every long-poll adds a listener; hundreds of concurrent CI waits are normal
    this.#events.setMaxListeners(0);
  }

  /** Something was enqueued (call after the enqueuing transaction committed). */
  enqueued(): void {
    this.#events.emit('enqueued');
  }

  /** A job changed state. */
  changed(publicId: string): void {
    this.#events.emit(`job:${publicId}`);
  }

  /** Resolves on the next enqueue, or after `ms`, or when `signal` aborts. */
  nextEnqueue(ms: number, signal?: AbortSignal): Promise<void> {
    return this.#wait('enqueued', ms, signal);
  }

  /** Resolves when the job changes, or after `ms`, or when `signal` aborts. */
  nextChange(publicId: string, ms: number, signal?: AbortSignal): Promise<void> {
    return this.#wait(`job:${publicId}`, ms, signal);
  }

  #wait(event: string, ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#events.off(event, done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      this.#events.once(event, done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }
}
