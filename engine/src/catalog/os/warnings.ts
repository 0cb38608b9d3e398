import { oneLine, type ScanWarning, scanWarning } from '../../model/warning.js';

/**
 * Collects a cataloger's warnings with its id filled in, so parsers only say what went wrong and where. Messages
 * quote database content (package names, field values), so each is kept to one short line.
 */
export class WarningSink {
  readonly list: ScanWarning[] = [];
  constructor(private readonly cataloger: string) {}
  add(path: string | undefined, message: string): void {
    this.list.push(scanWarning(this.cataloger, oneLine(message), path));
  }
}
