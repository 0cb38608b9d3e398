import type { Report } from '../model/report.js';

/** `-o json`: the report model as is (docs/report.md). */
export function renderJson(report: Report): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
