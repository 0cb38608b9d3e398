import { LadingError } from '../errors/lading-error.js';
import type { Report } from '../model/report.js';
import type { RenderOptions } from '../report/render-options.js';

export function renderSpdx(_report: Report, _options: RenderOptions): string {
  throw new LadingError('USAGE', 'output format spdx-json is not implemented yet');
}
