import type { Report } from '../model/report.js';
import type { RenderOptions } from './render-options.js';

export type Renderer = (report: Report, options: RenderOptions) => string;

/**
 * Every `-o FORMAT` of `lading scan`, one renderer each, loaded when asked for: a run that writes CycloneDX does not
 * compile the SARIF, JUnit, markdown and table writers.
 */
export const REPORT_FORMATS: Readonly<Record<string, () => Promise<Renderer>>> = {
  table: async () => (await import('./table.js')).renderTable,
  json: async () => (await import('./json.js')).renderJson,
  'cyclonedx-json': async () => (await import('../sbom/cyclonedx-writer.js')).renderCycloneDx,
  'spdx-json': async () => (await import('../sbom/spdx-writer.js')).renderSpdx,
  sarif: async () => (await import('./sarif.js')).renderSarif,
  junit: async () => (await import('./junit.js')).renderJunit,
  markdown: async () => (await import('./markdown.js')).renderMarkdown,
  'gitlab-cs': async () => (await import('./gitlab-cs.js')).renderGitlabContainerScanning,
};

export const SBOM_FORMATS = ['cyclonedx-json', 'spdx-json'] as const;
