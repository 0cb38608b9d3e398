// Vulnerability data on the server: updates and offline imports into the store, recorded as data generations.
export * from './jobs.js';
export * from './routes.js';
export * from './update.js';
