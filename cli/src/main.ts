import { describeError, EXIT, isLadingError, thrownValueText } from '@lading/engine/errors';
import { LADING_VERSION } from '@lading/engine/version';
import { Command, CommanderError } from 'commander';
import { registerCommands } from './commands/index.js';
import { OUTPUT_FORMAT_NAMES } from './commands/scan.js';
import { parseDuration, startDeadline, timedOut, timeoutMessage } from './deadline.js';
import { timeoutFrom } from './environment.js';

/** Runs the CLI and returns the exit code; the only place that turns errors into exit statuses. */
export async function main(argv: string[]): Promise<number> {
  const debug = argv.includes('--debug') || process.env['LADING_DEBUG'] === '1';
  const program = new Command('lading')
    .description('The bill of lading for a container image: SBOM, vulnerabilities, signatures and attestations.')
    .version(LADING_VERSION, '-V, --version', 'print the version and exit')
    .option('--debug', 'print stack traces and debug details on errors')
    .option(
      '--timeout <duration>',
      'stop the whole command after this long, e.g. 30s or 10m: exit 3 (env LADING_TIMEOUT)',
    )
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
  // The running command's arguments (its target or files), to name them in an error that does not say itself.
  let inputs: readonly string[] = [];
  program.hook('preAction', (_program, action) => {
    inputs = action.args;
    const words = timeoutFrom(program.opts<{ timeout?: string }>().timeout, process.env);
    if (words === undefined) return;
    let ms: number;
    try {
      ms = parseDuration(words);
    } catch (err) {
      throw new CommanderError(2, 'lading.timeout', `--timeout: ${thrownValueText(err)}`);
    }
    startDeadline(ms, words);
  });

  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.OK;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.exitCode === 0) {
        return EXIT.OK;
      }
      if (err.code === 'commander.help') return EXIT.OK;
      const hint = err.code === 'commander.unknownOption' ? formatFlagHint(err.message, argv) : '';
      process.stderr.write(`lading: ${err.message.replace(/^error:\s*/, '')}${hint}\n`);
      return EXIT.USAGE;
    }
    // Whatever a command ended with once its deadline passed (an abort, a closed socket) is the timeout.
    if (timedOut()) {
      process.stderr.write(`lading: ${timeoutMessage()}\n`);
      return EXIT.OPERATIONAL;
    }
    const code = isLadingError(err) ? err.exitCode : EXIT.OPERATIONAL;
    process.stderr.write(`lading: ${describeForCli(err, inputs)}\n`);
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

/** Trivy's format names where Lading's differ (`trivy -f cyclonedx` writes CycloneDX JSON). */
const TRIVY_FORMAT_NAMES: Readonly<Record<string, string>> = { cyclonedx: 'cyclonedx-json', spdx: 'spdx-json' };

/**
 * Trivy's habit, `--format json` or `-f json`, is Lading's `-o json`: for an unknown `--format`/`-f`, the hint
 * ` (did you mean -o json?)` names the format the user gave when Lading has it, else `-o FORMAT`. Empty otherwise.
 */
export function formatFlagHint(message: string, argv: readonly string[]): string {
  const option = /unknown option '([^']+)'/.exec(message)?.[1];
  const m = option ? /^(--format|-f)(?:=(.*))?$/.exec(option) : null;
  if (!m || !option) return '';
  const at = argv.indexOf(option);
  const given = m[2] ?? (at !== -1 ? argv[at + 1] : undefined);
  const format = given ? (TRIVY_FORMAT_NAMES[given] ?? given) : undefined;
  return ` (did you mean -o ${format && OUTPUT_FORMAT_NAMES.includes(format) ? format : 'FORMAT'}?)`;
}

/** The flag of each engine option an error may name (`LadingError.option`). */
const FLAG_FOR_OPTION: Readonly<Record<string, string>> = {
  offline: '--offline',
  insecureRegistries: '--insecure-registry',
  sbomOnly: '--sbom-only',
  allowMissingData: '--allow-missing-data',
  dbDir: '--db-dir',
  ecosystems: '--ecosystem',
  force: '--force',
  type: '--type',
  attestations: '--attestation',
  builderId: '--builder-id',
  denySeverities: '--deny-severity',
  name: '--name',
  image: '--image',
  tag: '--tag',
  platform: '--platform',
  store: '--store',
  mirror: '--mirror',
  keyrings: '--keyring',
};

/**
 * An error's one line, with the engine's words for an option (`the offline option`) replaced by the flag a CLI user
 * types (`--offline`); a message that starts with the option's value gets the flag in front (`--type x: …`).
 */
export function describeForCli(err: unknown, inputs: readonly string[] = []): string {
  const message = describeError(err);
  // Our own errors say what they are about; anything else (a bug, an engine limit) gets the command's inputs named,
  // so that a failure on one of many files in a CI log can be traced to it.
  if (!isLadingError(err) && inputs.length > 0 && !inputs.some((input) => message.includes(input))) {
    return `${message} (while reading ${inputs.join(', ')})`;
  }
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
