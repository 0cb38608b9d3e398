// The public API of policy/: what other packages may import as `@lading/engine/policy`. Files not listed here are
// internal and may change without notice.

export * from './attested-reports.js';
export * from './baseline.js';
export * from './exceptions.js';
export * from './filters.js';
export * from './gate.js';
export * from './policy-file.js';
export * from './vex.js';
