// The public API of collector/: the client of lading-server's ingest API (`@lading/engine/collector`), used by
// `lading push` and by the pipeline's notify step. Files not listed here are internal.
export * from './client.js';
export { type FormPart, type MultipartBody, multipartBody } from './multipart.js';
