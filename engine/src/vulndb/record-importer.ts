import { thrownValueText } from '../errors/lading-error.js';
import type { OsvRecord } from '../model/osv.js';
import { type ScanWarning, scanWarning } from '../model/warning.js';
import { baseEcosystem } from './names.js';
import { parseOsvRecord } from './parse-record.js';
import type { WriteTransaction } from './writer.js';

/** Enough to see what is wrong without drowning a terminal when a whole dump is bad. */
const MAX_WARNINGS = 20;

/**
 * Feeds raw OSV documents into an open write transaction: a bad document becomes a warning and the rest go
 * on. `source` pins the dump a record belongs to (an ecosystem's all.zip); otherwise its first ecosystem decides.
 */
export class RecordImporter {
  readonly warnings: ScanWarning[] = [];
  readonly sources = new Set<string>();
  /** Records added per dump: `db import` compares counts to tell which dumps one zip brought. */
  readonly perSource = new Map<string, number>();
  imported = 0;
  skipped = 0;

  constructor(
    private readonly tx: WriteTransaction,
    private readonly options: {
      source?: string;
      fresh?: boolean;
      /**
       * Parses a YAML record. Passed in by `db import`, the one path that meets YAML files, so that loading this
       * module (and every scan that reaches the vulndb entry) does not load the YAML parser.
       */
      parseYaml?: (text: string) => unknown;
    } = {},
  ) {}

  /** `name` is where the document came from (zip entry, file), for the warning. */
  addDocument(name: string, data: Buffer): void {
    let value: unknown;
    try {
      const text = data.toString('utf8');
      if (/\.ya?ml$/i.test(name)) {
        if (!this.options.parseYaml) throw new Error('YAML records are read by import only');
        value = this.options.parseYaml(text);
      } else {
        value = JSON.parse(text);
      }
    } catch (err) {
      this.warn(name, `not valid ${/\.ya?ml$/i.test(name) ? 'YAML' : 'JSON'}: ${thrownValueText(err)}`);
      return;
    }
    this.addValue(name, value);
  }

  /** `source` overrides the dump the record is filed under (a copied store keeps its own). */
  addValue(name: string, value: unknown, source?: string): OsvRecord | undefined {
    // checked before anything walks the record recursively (parsing, encoding), which a deep one would overflow
    if (nestedDeeperThan(value, MAX_RECORD_DEPTH)) {
      this.warn(name, `skipped malformed OSV record: nested deeper than ${MAX_RECORD_DEPTH} levels`);
      return undefined;
    }
    const parsed = parseOsvRecord(value);
    if ('error' in parsed) {
      this.warn(name, `skipped malformed OSV record: ${parsed.error}`);
      return undefined;
    }
    const dump = source ?? this.options.source ?? sourceOf(parsed.record);
    this.tx.putRecord(dump, parsed.record, this.options.fresh === true);
    this.sources.add(dump);
    this.perSource.set(dump, (this.perSource.get(dump) ?? 0) + 1);
    this.imported++;
    return parsed.record;
  }

  warn(path: string, message: string): void {
    this.skipped++;
    if (this.warnings.length < MAX_WARNINGS) this.warnings.push(scanWarning('vulndb', message, path));
    else if (this.warnings.length === MAX_WARNINGS) {
      this.warnings.push(scanWarning('vulndb', 'more malformed records skipped (warnings truncated)'));
    }
  }
}

/** The dump a standalone record would have been published in (`[EMPTY]` for records without a package). */
export function sourceOf(record: OsvRecord): string {
  const ecosystem = record.affected?.find((a) => a.package?.ecosystem)?.package?.ecosystem;
  return ecosystem ? baseEcosystem(ecosystem) : '[EMPTY]';
}

/** OSV records nest a handful of levels (affected → ranges → events); free-form `*_specific` fields a few more. */
export const MAX_RECORD_DEPTH = 64;

/** Whether `value` nests arrays or objects deeper than `max`, found without recursion (a deep value would overflow it). */
export function nestedDeeperThan(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop() as [unknown, number];
    if (node === null || typeof node !== 'object') continue;
    if (depth >= max) return true;
    for (const child of Array.isArray(node) ? node : Object.values(node)) {
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
    }
  }
  return false;
}
