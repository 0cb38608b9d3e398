import type { ScanWarning } from '../../model/warning.js';
import { oneLine } from '../lang/common.js';

/**
 * Collects a cataloger's warnings with its id filled in, so parsers only say what went wrong and where. Messages
 * quote database content (package names, field values), so each is kept to one short line.
 */
export class WarningSink {
  readonly list: ScanWarning[] = [];
  constructor(private readonly cataloger: string) {}
  add(path: string | undefined, message: string): void {
    const warning: ScanWarning = { cataloger: this.cataloger, message: oneLine(message) };
    if (path !== undefined) warning.path = path;
    this.list.push(warning);
  }
}
