// The public API of trace/: what other packages may import as `@lading/engine/trace`. The fix-latency study and
// its functions over Lading's own reports: the CLI's `lading trace` and (later) the server run the same code.

export { type DistroLatency, type DistroLatencyRow, distroFixLatency, PRIORITIES, type Priority } from './distro.js';
export { type Episode, exposureEpisodes, type StreamObservation } from './episodes.js';
export type { BaseLag, EpisodeDetail, SeriesLatency } from './images.js';
export { DEFAULT_JSON_LINES_LIMITS, type JsonLinesLimits, readJsonLines } from './read.js';
export { baseMixMarkdown, streamMarkdown, studyCharts, studyMarkdown } from './render.js';
export {
  type BaseMix,
  baseMix,
  type StreamBuild,
  type StreamLatency,
  type StreamTimeBasis,
  streamLatency,
} from './reports.js';
export { type Duration, kaplanMeierQuantile, type LatencyStats, latencyStats, quantile } from './stats.js';
export { readStudyData, runStudy, STUDY_FILES, type StudyData, type StudyOptions, type StudyResult } from './study.js';
export type { StudyCve, StudyFix, StudyImage } from './study-data.js';
export { TRACE_SCHEMA } from './trace-schema.js';
