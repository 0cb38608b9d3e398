// The public API of http/: what other packages may import as `@lading/engine/http`. Files not listed here are
// internal and may change without notice.
export * from './body.js';
export * from './client.js';
export * from './download.js';
export type { HttpMethod, HttpResponse, MinimumRate, RequestBody, StreamBody } from './exchange.js';
export * from './resumable.js';
export * from './retry.js';
