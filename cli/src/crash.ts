import { EXIT } from '@lading/engine/errors';
import { describeForCli } from './main.js';

/**
 * An error thrown outside any command's promise (a stream's event handler, a timer) would end Node with its own
 * stack trace and exit 1, which means "no" to a script. It ends here instead: one line, exit 3 (operational), the
 * same words `main` gives an error it catches. The process is in an unknown state, so it exits at once.
 */
export function installCrashHandlers(): void {
  const crash = (err: unknown) => {
    process.stderr.write(`lading: ${describeForCli(err)}\n`);
    if (process.argv.includes('--debug') && err instanceof Error) process.stderr.write(`${err.stack ?? ''}\n`);
    process.exit(EXIT.OPERATIONAL);
  };
  process.on('uncaughtException', crash);
  process.on('unhandledRejection', crash);
}
