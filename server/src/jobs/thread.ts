// The embedded mode's job thread, seen from the API thread (SERVER.md section 3): a worker_threads Worker running
// thread-main.ts with its own database connection, so a long match never stalls HTTP. The two threads share only
// the database and wake-ups: an enqueue committed here wakes the thread's runner at once, and a job the thread
// finished wakes this thread's long-polls (`GET /jobs/{id}?wait=`). The thread is also the embedded mode's one
// writer for ingest: the API thread hands it each bundle's acceptance (ingest/accept.ts routeAccepts), so the two
// connections never wait on each other for SQLite's write lock.
import { Worker } from 'node:worker_threads';
import type { ServerConfig } from '../config.js';
import type { ServerContext } from '../context.js';
import { type AcceptInput, type IngestAnswer, routeAccepts } from '../ingest/accept.js';
import type { RunnerOptions } from './runner.js';
import type { Schedule } from './schedules.js';

export interface JobThreadData {
  readonly config: ServerConfig;
  readonly version: string;
  readonly schedules: readonly Schedule[];
  /** Only plain data crosses threads: no backoff function (the default applies). */
  readonly runner?: Omit<RunnerOptions, 'backoffMs'>;
  readonly heartbeatMs?: number;
  readonly staleMs?: number;
  readonly clockOffsetMs?: number;
  /** A module URL exporting registerExtraHandlers(runner, ctx) (test processes). */
  readonly extraHandlersModule?: string;
}

export type ThreadMessage =
  | { readonly type: 'enqueued' }
  | { readonly type: 'changed'; readonly publicId: string }
  | { readonly type: 'ready'; readonly nodeId: string; readonly kinds: readonly string[] }
  | { readonly type: 'accept'; readonly id: number; readonly input: AcceptInput }
  | { readonly type: 'accepted'; readonly id: number; readonly answer: IngestAnswer }
  | { readonly type: 'accept-failed'; readonly id: number; readonly message: string }
  | { readonly type: 'stop' }
  | { readonly type: 'stopped' };

export interface JobThread {
  /** The thread's node id (its row in `nodes`, its `locked_by`). */
  readonly nodeId: string;
  /** The job kinds it runs. */
  readonly kinds: readonly string[];
  readonly threadId: number;
  /** Stops claiming, lets running jobs settle, closes the thread's connection, ends the thread. */
  stop(): Promise<void>;
}

// Built (dist/jobs/thread.js): the compiled thread-main.js is plain JavaScript the Worker loads as it is. From the
// sources (a development checkout, under tsx): thread-entry.mjs registers tsx in the Worker first.
const ENTRY = new URL(import.meta.url.endsWith('.js') ? './thread-main.js' : './thread-entry.mjs', import.meta.url);

export async function startJobThread(ctx: ServerContext, data: JobThreadData): Promise<JobThread> {
  const worker = new Worker(ENTRY, { workerData: data });
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    worker.once('exit', () => {
      exited = true;
      resolve();
    }),
  );
  const ready = await new Promise<{ nodeId: string; kinds: readonly string[] }>((resolve, reject) => {
    const onMessage = (message: ThreadMessage) => {
      if (message.type !== 'ready') return;
      worker.off('message', onMessage);
      worker.off('error', reject);
      resolve(message);
    };
    worker.on('message', onMessage);
    worker.once('error', reject);
    void exit.then(() => reject(new Error('the job thread exited while starting')));
  });
  worker.on('error', (error) => ctx.log.error('job thread failed', { error: error.stack ?? String(error) }));
  // acceptances handed to the thread, by request id, until it answers (after its commit) or exits
  const accepting = new Map<number, { resolve: (answer: IngestAnswer) => void; reject: (error: Error) => void }>();
  let nextAccept = 0;
  worker.on('message', (message: ThreadMessage) => {
    if (message.type === 'changed') ctx.jobSignals.changed(message.publicId);
    if (message.type === 'accepted' || message.type === 'accept-failed') {
      const waiting = accepting.get(message.id);
      accepting.delete(message.id);
      if (message.type === 'accepted') waiting?.resolve(message.answer);
      else waiting?.reject(new Error(message.message));
    }
  });
  void exit.then(() => {
    routeAccepts(ctx.db, undefined);
    for (const waiting of accepting.values()) waiting.reject(new Error('the job thread stopped before answering'));
    accepting.clear();
  });
  // SQLite only: PostgreSQL's writers wait on row locks, asynchronously, and the API's pool accepts on its own
  if (ctx.dialect === 'sqlite') {
    routeAccepts(ctx.db, (input) => {
      if (exited) return Promise.reject(new Error('the job thread has stopped'));
      const id = nextAccept++;
      return new Promise<IngestAnswer>((resolve, reject) => {
        accepting.set(id, { resolve, reject });
        worker.postMessage({ type: 'accept', id, input } satisfies ThreadMessage);
      });
    });
  }
  const unsubscribe = ctx.jobSignals.subscribe((signal) => {
    if (signal.type === 'enqueued' && !exited) worker.postMessage({ type: 'enqueued' } satisfies ThreadMessage);
  });
  return {
    nodeId: ready.nodeId,
    kinds: ready.kinds,
    threadId: worker.threadId,
    stop: async () => {
      // acceptances from now on use this thread's own connection; those already handed over are answered first
      routeAccepts(ctx.db, undefined);
      unsubscribe();
      if (exited) return;
      const stopped = new Promise<void>((resolve) =>
        worker.on('message', (message: ThreadMessage) => {
          if (message.type === 'stopped') resolve();
        }),
      );
      worker.postMessage({ type: 'stop' } satisfies ThreadMessage);
      await Promise.race([stopped, exit]);
      await worker.terminate();
    },
  };
}
