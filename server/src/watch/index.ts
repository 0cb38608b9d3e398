// Registry watch (polling watched repositories' tags, pulling new digests) and rebuild triggers (where a
// repository's rebuilds are asked for, and the job asking).

export {
  MAX_WATCH_INTERVAL_SECONDS,
  MIN_WATCH_INTERVAL_SECONDS,
  pollDueWatches,
  pollWatch,
  REGISTRY_WATCH,
  registerWatchJobs,
  registryOf,
  WATCH_SCHEDULES,
  type WatchOptions,
  type WatchPollOutcome,
} from './poll.js';
export {
  checkRebuilds,
  queueRebuildCheck,
  REBUILD_CHECK,
  type RebuildPayload,
  type RebuildTarget,
  registerRebuildJobs,
  setRebuildTarget,
} from './rebuild.js';
export { registerRebuildRoutes, registerWatchRoutes } from './routes.js';
