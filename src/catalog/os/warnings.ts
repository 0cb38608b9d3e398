import type { ScanWarning } from '../../model/warning.js';

/** Collects a cataloger's warnings with its id filled in, so parsers only say what went wrong and where. */
export class WarningSink {
  readonly list: ScanWarning[] = [];
  constructor(private readonly cataloger: string) {}
  add(path: string | undefined, message: string): void {
    const warning: ScanWarning = { cataloger: this.cataloger, message };
    if (path !== undefined) warning.path = path;
    this.list.push(warning);
  }
}
