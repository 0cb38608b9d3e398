// The embedded mode's job thread, seen from the API thread (SERVER.md section 3): a worker_threads Worker running
// thread-main.ts with its own database connection, so a long match never stalls HTTP. The two threads share only
// the database and wake-ups: an enqueue committed here wakes the thread's runner at once, and a job the thread
// finished wakes this thread's long-polls (`GET /jobs/{id}?wait=`).
import { Worker } from 'node:worker_threads';
import type { ServerConfig } from '../config.js';
import type { ServerContext } from '../context.js';
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

const ENTRY = new URL('./thread-entry.mjs', import.meta.url);

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
  worker.on('message', (message: ThreadMessage) => {
    if (message.type === 'changed') ctx.jobSignals.changed(message.publicId);
  });
  const unsubscribe = ctx.jobSignals.subscribe((signal) => {
    if (signal.type === 'enqueued' && !exited) worker.postMessage({ type: 'enqueued' } satisfies ThreadMessage);
  });
  return {
    nodeId: ready.nodeId,
    kinds: ready.kinds,
    threadId: worker.threadId,
    stop: async () => {
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
