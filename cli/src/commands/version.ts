import { LadingError } from '@lading/engine/errors';
import type { Command } from 'commander';

/**
 * `lading version compare ECOSYSTEM A B` prints -1, 0 or 1. With `--batch`, JSON lines `{"a","b"}` on standard
 * input give one result line each; a bad line gives an `{"error":"…"}` line and processing goes on, and the exit
 * status is 2 at the end if any line failed (so scripts notice without losing the other answers).
 */
export function registerVersion(program: Command): void {
  const version = program.command('version').description('compare versions the way an ecosystem does');
  version
    .command('compare')
    .description('print -1, 0 or 1 as A sorts before, equal to or after B (--batch: JSON lines {"a","b"} on stdin)')
    .argument('<ecosystem>', 'OSV ecosystem name: Debian, Ubuntu, Alpine, Red Hat, npm, PyPI, Go, Maven, …')
    .argument('[a]', 'first version')
    .argument('[b]', 'second version')
    .option('--batch', 'read {"a":…,"b":…} JSON lines from standard input, write one result per line')
    .action(async (ecosystem: string, a: string | undefined, b: string | undefined, opts: { batch?: boolean }) => {
      const { compareBatch, compareVersions } = await loadImplementation();
      if (opts.batch) {
        if (a !== undefined) throw new LadingError('USAGE', 'version compare --batch takes no versions as arguments');
        const summary = await compareBatch(ecosystem, process.stdin, process.stdout);
        if (summary.failed > 0) {
          process.stderr.write(`lading: ${summary.failed} of ${summary.lines} lines could not be compared\n`);
          process.exitCode = 2;
        }
        return;
      }
      if (a === undefined || b === undefined) {
        throw new LadingError('USAGE', 'version compare needs ECOSYSTEM A B (or --batch)');
      }
      process.stdout.write(`${compareVersions(ecosystem, a, b)}\n`);
    });
}

/** The implementation modules, loaded when a command runs so that CLI startup stays cheap. */
async function loadImplementation() {
  const [m0, m1] = await Promise.all([import('@lading/engine/versions'), import('@lading/engine/versions')]);
  return { ...m0, ...m1 };
}
