// Fleet metrics, trends, fix tracing and the weekly summary (issue 19, server side).
export {
  computeMetrics,
  DEFAULT_SLA_DAYS,
  type FleetMetrics,
  type MttrStats,
  SLA_SETTING,
  type SlaTargets,
  slaTargets,
} from './compute.js';
export { recordDailyMetrics, type TrendPoint, trendPoints, weekStart } from './daily.js';
export {
  allFixes,
  type BaseBasis,
  baseOf,
  type Fix,
  type FixFacts,
  type FixKind,
  fixKind,
  type ImageBase,
  type ImageLayer,
  LADING_PATCH_CREATED_BY,
  listFixes,
  type ProvenanceFacts,
  provenanceFacts,
} from './fixes.js';
export { METRICS_DAILY, METRICS_SCHEDULES, registerMetricsJobs, SUMMARY_WEEKLY } from './jobs.js';
export { allScopes, type MetricsScope, resolveScope, ScopeNotFound, ScopeUnreadable } from './scope.js';
export {
  isoWeekName,
  lastCompleteWeek,
  publishSummary,
  SUMMARY_ARTIFACT_KIND,
  storeWeeklySummary,
  weekOfName,
} from './weekly.js';
