import type { Report } from '../model/report.js';
import { renderCycloneDx } from '../sbom/cyclonedx-writer.js';
import { renderSpdx } from '../sbom/spdx-writer.js';
import { renderJson } from './json.js';
import { renderJunit } from './junit.js';
import { renderMarkdown } from './markdown.js';
import type { RenderOptions } from './render-options.js';
import { renderSarif } from './sarif.js';
import { renderTable } from './table.js';

export type Renderer = (report: Report, options: RenderOptions) => string;

/** Every `-o FORMAT` of `lading scan`, one renderer each. */
export const REPORT_FORMATS: Readonly<Record<string, Renderer>> = {
  table: renderTable,
  json: renderJson,
  'cyclonedx-json': renderCycloneDx,
  'spdx-json': renderSpdx,
  sarif: renderSarif,
  junit: renderJunit,
  markdown: renderMarkdown,
};

export const SBOM_FORMATS = ['cyclonedx-json', 'spdx-json'] as const;
