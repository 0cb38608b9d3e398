// Rebuild triggers (registry watch is to come): where a repository's rebuilds are asked for, and the job asking.
export {
  checkRebuilds,
  queueRebuildCheck,
  REBUILD_CHECK,
  type RebuildPayload,
  type RebuildTarget,
  registerRebuildJobs,
  setRebuildTarget,
} from './rebuild.js';
export { registerRebuildRoutes } from './routes.js';
