import { installCrashHandlers } from './crash.js';
import { main } from './main.js';

installCrashHandlers();
const code = await main(process.argv.slice(2));
// Let pending stdout writes drain before exiting with the status.
process.exitCode = code;
