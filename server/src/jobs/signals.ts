// In-process wake-ups for the job queue: the runner sleeps until something was enqueued (or its poll interval
// passes), and a long-polling `GET /jobs/{id}?wait=` sleeps until that job changed. Signals only shorten waits;
// the database stays the truth (another process's changes are seen at the next poll).
import { EventEmitter } from 'node:events';

/** A wake-up, as forwarded between the API thread and the job thread (jobs/thread.ts). */
export type JobSignal = { readonly type: 'enqueued' } | { readonly type: 'changed'; readonly publicId: string };

export class JobSignals {
  readonly #events = new EventEmitter();
  readonly #subscribers = new Set<(signal: JobSignal) => void>();
  #enqueues = 0;

  constructor() {
    // every long-poll adds a listener; hundreds of concurrent CI waits are normal
    this.#events.setMaxListeners(0);
  }

  /** Something was enqueued (call after the enqueuing transaction committed). */
  enqueued(): void {
    this.#enqueues++;
    this.#events.emit('enqueued');
    for (const listener of this.#subscribers) listener({ type: 'enqueued' });
  }

  /** A job changed state. */
  changed(publicId: string): void {
    this.#events.emit(`job:${publicId}`);
    for (const listener of this.#subscribers) listener({ type: 'changed', publicId });
  }

  /** Every signal of this thread, for forwarding to another thread; returns the unsubscribe. */
  subscribe(listener: (signal: JobSignal) => void): () => void {
    this.#subscribers.add(listener);
    return () => this.#subscribers.delete(listener);
  }

  /** How many enqueues were signalled so far: read it before looking for work, pass it to nextEnqueue. */
  get enqueueCount(): number {
    return this.#enqueues;
  }

  /**
   * Resolves on the next enqueue, or after `ms`, or when `signal` aborts; at once when an enqueue was signalled
   * since `seen` (so an enqueue that lands while the runner is busy claiming is not slept through).
   */
  nextEnqueue(ms: number, signal?: AbortSignal, seen?: number): Promise<void> {
    if (seen !== undefined && seen !== this.#enqueues) return Promise.resolve();
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
