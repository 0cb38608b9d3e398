import { oneLine, type ScanWarning, scanWarning } from '../../model/warning.js';

/**
 * Collects a cataloger's warnings with its id filled in, so parsers only say what went wrong and where. Messages
 * quote database content (package names, field values), so each is kept to one short line.
 */
export class WarningSink {
  readonly list: ScanWarning[] = [];
  /** Those of `list` that left nothing unread (`CatalogResult.notes`); the rest are coverage gaps. */
  readonly notes = new Set<ScanWarning>();
  constructor(private readonly cataloger: string) {}
  /** Something was not read (a record skipped, a file unparsable): a coverage gap as well as a warning. */
  add(path: string | undefined, message: string): void {
    this.list.push(scanWarning(this.cataloger, oneLine(message), path));
  }
  /** Worth saying, but nothing was left unread (a duplicate dropped, a field ignored): a warning only. */
  note(path: string | undefined, message: string): void {
    const warning = scanWarning(this.cataloger, oneLine(message), path);
    this.list.push(warning);
    this.notes.add(warning);
  }
}
