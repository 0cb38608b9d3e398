import { type ScanWarning, scanWarning } from '../model/warning.js';

const EXAMPLES = 5;

/** Collects per-component problems and reports each kind once, with a count and a few examples. */
export class SkipLog {
  private readonly kinds = new Map<string, { count: number; examples: string[] }>();

  add(kind: string, example: string): void {
    const entry = this.kinds.get(kind) ?? { count: 0, examples: [] };
    entry.count++;
    if (entry.examples.length < EXAMPLES) entry.examples.push(example.slice(0, 200));
    this.kinds.set(kind, entry);
  }

  warnings(path: string): ScanWarning[] {
    return [...this.kinds].map(([kind, { count, examples }]) =>
      scanWarning(
        'sbom',
        `${kind}: ${count} (e.g. ${examples.join(', ')}${count > examples.length ? ', …' : ''})`,
        path,
      ),
    );
  }
}
