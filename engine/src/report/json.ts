import type { Report } from '../model/report.js';

/** `-o json`: the report model as is (DESIGN.md section 3). */
export function renderJson(report: Report): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
