export type * from './finding.js';
export { SEVERITIES } from './finding.js';
export type * from './inventory.js';
export type * from './os.js';
export type * from './package.js';
export type * from './report.js';
export { REPORT_SCHEMA_VERSION } from './report.js';
export type * from './target.js';
export type * from './warning.js';
