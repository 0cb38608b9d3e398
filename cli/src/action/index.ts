// The Action's `main:` entry (dist/action/index.js): the one place that reads the process's environment and clock.
import { installCrashHandlers } from '../crash.js';
import { runAction } from './main.js';

installCrashHandlers();
process.exitCode = await runAction(process.env, new Date());
