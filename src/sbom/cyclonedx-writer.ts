import { LadingError } from '../errors/lading-error.js';
import type { Report } from '../model/report.js';
import type { RenderOptions } from '../report/render-options.js';

/** CycloneDX JSON: the inventory, and a `vulnerabilities` section when the report has findings. */
export function renderCycloneDx(_report: Report, _options: RenderOptions): string {
  throw new LadingError('USAGE', 'output format cyclonedx-json is not implemented yet');
}
