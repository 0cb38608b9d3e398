// Findings over time: exception expiry and the image counters recounted from findings.
export * from './counters.js';
export * from './expire.js';
export * from './jobs.js';
