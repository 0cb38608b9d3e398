// The events module: writing audit events, reading them as a stream, and their Lading/OCSF/CSV shapes.
export * from './format.js';
export * from './record.js';
export * from './routes.js';
export * from './stream.js';
