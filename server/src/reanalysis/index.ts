// Findings over time: re-analysis after data updates, exception expiry, and image counters recounted from findings.
export * from './counters.js';
export * from './expire.js';
export * from './jobs.js';
export * from './reanalyze.js';
