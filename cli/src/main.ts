import { LADING_VERSION } from '@lading/engine';
import { describeError, EXIT, isLadingError } from '@lading/engine/errors';
import { Command, CommanderError } from 'commander';
import { registerCommands } from './commands/index.js';

/** Runs the CLI and returns the exit code; the only place that turns errors into exit statuses. */
export async function main(argv: string[]): Promise<number> {
  const debug = argv.includes('--debug') || process.env['LADING_DEBUG'] === '1';
  const program = new Command('lading')
    .description('The bill of lading for a container image: SBOM, vulnerabilities, signatures and attestations.')
    .version(LADING_VERSION, '-V, --version', 'print the version and exit')
    .option('--debug', 'print stack traces and debug details on errors')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      // Commander's own errors become one line in the catch below.
      writeErr: (text) => {
        if (!text.startsWith('error:')) process.stderr.write(text);
      },
    });
  registerCommands(program);
  for (const cmd of program.commands) applyErrorHandling(cmd);

  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.OK;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.exitCode === 0) {
        return EXIT.OK;
      }
      if (err.code === 'commander.help') return EXIT.OK;
      process.stderr.write(`lading: ${err.message.replace(/^error:\s*/, '')}\n`);
      return EXIT.USAGE;
    }
    const code = isLadingError(err) ? err.exitCode : EXIT.OPERATIONAL;
    process.stderr.write(`lading: ${describeForCli(err)}\n`);
    if (debug && err instanceof Error) {
      process.stderr.write(`${err.stack ?? ''}\n`);
      let cause = err.cause;
      while (cause instanceof Error) {
        process.stderr.write(`caused by: ${cause.stack ?? cause.message}\n`);
        cause = cause.cause;
      }
    }
    return code;
  }
}

/** The flag of each engine option an error may name (`LadingError.option`). */
const FLAG_FOR_OPTION: Readonly<Record<string, string>> = {
  offline: '--offline',
  insecureRegistries: '--insecure-registry',
  sbomOnly: '--sbom-only',
  dbDir: '--db-dir',
  ecosystems: '--ecosystem',
  force: '--force',
  type: '--type',
};

/**
 * An error's one line, with the engine's words for an option (`the offline option`) replaced by the flag a CLI user
 * types (`--offline`); a message that starts with the option's value gets the flag in front (`--type x: …`).
 */
export function describeForCli(err: unknown): string {
  const message = describeError(err);
  const option = isLadingError(err) ? err.option : undefined;
  const flag = option ? FLAG_FOR_OPTION[option] : undefined;
  if (!option || !flag) return message;
  const words = `the ${option} option`;
  return message.includes(words) ? message.replace(words, flag) : `${flag} ${message}`;
}

function applyErrorHandling(cmd: Command): void {
  cmd.exitOverride();
  cmd.configureOutput({
    writeErr: (text) => {
      if (!text.startsWith('error:')) process.stderr.write(text);
    },
  });
  cmd.showSuggestionAfterError(true);
  for (const sub of cmd.commands) applyErrorHandling(sub);
}
