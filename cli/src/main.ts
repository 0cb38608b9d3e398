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
    process.stderr.write(`lading: ${describeError(err)}\n`);
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
