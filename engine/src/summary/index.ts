// The public API of summary/: what other packages may import as `@lading/engine/summary`. Files not listed here are
// internal and may change without notice.
export {
  isTrivyReport,
  ladingInput,
  loadWeeklySummary,
  readSummaryInput,
  repositoryName,
  type TrivyReport,
  trivyInput,
} from './inputs.js';
export {
  RISK_INDEX_METHOD,
  renderWeeklySummary,
  riskIndex,
  type SummaryImage,
  type SummaryInput,
  type TrendPoint,
  type WeeklySummary,
  type WeeklySummaryOptions,
  weeklySummary,
} from './summary.js';
export { WEEKLY_SUMMARY_SCHEMA } from './summary-schema.js';
