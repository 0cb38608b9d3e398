import { LadingError } from '../errors/lading-error.js';
import type { Report } from '../model/report.js';
import type { RenderOptions } from './render-options.js';

export function renderMarkdown(_report: Report, _options: RenderOptions): string {
  throw new LadingError('USAGE', 'output format markdown is not implemented yet');
}
