// Writes the JSON Schemas that the engine ships (engine/schemas/*.json) from the TypeScript objects that are their
// source, so that the bundled CLI needs no file beside it and enums derived from code tables stay in step.
// Run: npm run schemas (a test fails when a committed file differs from what this writes).
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { POLICY_SCHEMA } from '../src/policy/policy-schema.js';
import { REPORT_SCHEMA } from '../src/report/report-schema.js';
import { WEEKLY_SUMMARY_SCHEMA } from '../src/summary/summary-schema.js';
import { TRACE_SCHEMA } from '../src/trace/trace-schema.js';

/** Each shipped schema file, by its path from the engine's folder, and its exact text. */
export function schemaFiles(): Record<string, string> {
  return {
    'schemas/policy.schema.json': `${JSON.stringify(POLICY_SCHEMA, null, 2)}\n`,
    'schemas/report.schema.json': `${JSON.stringify(REPORT_SCHEMA, null, 2)}\n`,
    'schemas/trace.schema.json': `${JSON.stringify(TRACE_SCHEMA, null, 2)}\n`,
    'schemas/weekly-summary-v3.schema.json': `${JSON.stringify(WEEKLY_SUMMARY_SCHEMA, null, 2)}\n`,
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const [path, text] of Object.entries(schemaFiles())) {
    writeFileSync(new URL(`../${path}`, import.meta.url), text);
    console.log(`wrote engine/${path}`);
  }
}
