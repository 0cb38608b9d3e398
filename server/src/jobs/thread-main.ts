// Inside the job thread (SERVER.md section 3, "Embedded mode"): its own context, so its own database connection,
// the job runner with every registered handler, and the node's background duties (heartbeat, janitor, schedules).
// Matching and other CPU-heavy handlers then never block the API's event loop. Talks to the API thread only through
// wake-ups: 'enqueued' in, 'changed' out (jobs/thread.ts), and acceptances of ingest bundles, which it writes on
// its connection, the embedded mode's one writer ('accept' in, 'accepted' out after the commit).
import { parentPort, workerData } from 'node:worker_threads';
import { createContext } from '../context.js';
import { gateWriteTransactions } from '../db/connection.js';
import { groupAccepts } from '../ingest/accept.js';
import { type GraphileRunner, startGraphileRunner } from './graphile.js';
import { registerJobHandlers } from './handlers.js';
import { JobRunner } from './runner.js';
import { parseSchedules } from './schedules.js';
import { startNodeServices } from './services.js';
import type { JobThreadData, ThreadMessage } from './thread.js';

const data = workerData as JobThreadData;
const port = parentPort;
if (!port) throw new Error('thread-main runs only as a worker thread');

const offset = data.clockOffsetMs ?? 0;
const ctx = await createContext(data.config, offset === 0 ? {} : { now: () => Date.now() + offset });
const runner = new JobRunner(ctx, data.runner ?? {});
const handlerResources = registerJobHandlers(runner, ctx);
if (data.extraHandlersModule) {
  // test processes add their own kinds: a module exporting registerExtraHandlers(runner, ctx)
  const extra = (await import(data.extraHandlersModule)) as {
    registerExtraHandlers: (r: JobRunner, c: typeof ctx) => void;
  };
  extra.registerExtraHandlers(runner, ctx);
}
ctx.jobSignals.subscribe((signal) => {
  if (signal.type === 'changed')
    port.postMessage({ type: 'changed', publicId: signal.publicId } satisfies ThreadMessage);
});
// acceptances waiting together are written in one transaction, one fsync (ingest/accept.ts groupAccepts)
const accepts = groupAccepts(ctx.db);
// and a job's write transaction starts only after the acceptances waiting when it asked (db/connection.ts)
gateWriteTransactions(ctx.db, accepts.written);
port.on('message', (message: ThreadMessage) => {
  if (message.type === 'enqueued') ctx.jobSignals.enqueued();
  if (message.type === 'accept') {
    const { id, input } = message;
    accepts.accept(input).then(
      (answer) => {
        port.postMessage({ type: 'accepted', id, answer } satisfies ThreadMessage);
        // committed: this thread's runner may claim the job at once
        if (answer.status === 202) ctx.jobSignals.enqueued();
      },
      (error: unknown) => {
        const text = error instanceof Error ? error.message : String(error);
        port.postMessage({ type: 'accept-failed', id, message: text } satisfies ThreadMessage);
      },
    );
  }
  if (message.type === 'stop') {
    void (async () => {
      // acceptances already handed over are committed and answered before the connection closes
      await accepts.settled();
      await graphile?.stop();
      await runner.stop();
      handlerResources.close();
      await services.stop();
      await ctx.close();
      port.postMessage({ type: 'stopped' } satisfies ThreadMessage);
    })();
  }
});
// PostgreSQL: graphile-worker runs the registered handlers here, so the API thread only accepts (issue 17: its
// event loop did 15 ms of job work per push); SQLite: the table runner
let graphile: GraphileRunner | undefined;
if (ctx.dialect === 'postgres') graphile = await startGraphileRunner(ctx, runner, data.runner ?? {});
else runner.start();
const services = startNodeServices(ctx, {
  role: 'worker',
  // recorded with each heartbeat: the janitor force-unlocks these when this thread's node dies (nodes.ts)
  ...(graphile ? { graphileWorkerIds: graphile.workerIds } : {}),
  version: data.version,
  schedules: parseSchedules(data.schedules),
  ...(data.heartbeatMs === undefined ? {} : { heartbeatMs: data.heartbeatMs }),
  ...(data.staleMs === undefined ? {} : { staleMs: data.staleMs }),
});
port.postMessage({ type: 'ready', nodeId: ctx.nodeId, kinds: [...runner.kinds] } satisfies ThreadMessage);
