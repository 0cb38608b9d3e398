// Key passwords and key references come from the user's environment and terminal: the CLI's business. The engine
// takes them as plain options (`loadSigningKey(ref, { env, password })`).
import type { KeySourceOptions, SigningKeyOptions } from '@lading/engine/attest';
import { LadingError } from '@lading/engine/errors';
import type { Environment } from './environment.js';

/** Where keys are read from: `env://VAR` references are looked up in the process environment. */
export function keySource(env: Environment): KeySourceOptions {
  return { env };
}

/** As `keySource`, with the password of an encrypted key from the environment or a prompt (`obtainPassword`). */
export function signingKeySource(env: Environment): SigningKeyOptions {
  return { env, password: (purpose) => obtainPassword(purpose, env) };
}

/**
 * The key password: `LADING_PASSWORD`, then `COSIGN_PASSWORD` (an empty value is a valid, empty password), then a
 * prompt without echo when stdin is a terminal. Without any of those it is a usage error rather than a hang.
 */
export async function obtainPassword(
  purpose: string,
  env: Environment,
  options: { confirm?: boolean } = {},
): Promise<string> {
  for (const name of ['LADING_PASSWORD', 'COSIGN_PASSWORD']) {
    const value = env[name];
    if (value !== undefined) return value;
  }
  if (!process.stdin.isTTY || !process.stderr.isTTY) {
    throw new LadingError('USAGE', `${purpose}: set LADING_PASSWORD (or COSIGN_PASSWORD); no terminal to ask on`);
  }
  const first = await promptHidden(`Enter password for ${purpose}: `);
  if (options.confirm) {
    const second = await promptHidden('Enter password again: ');
    if (first !== second) throw new LadingError('USAGE', 'passwords do not match');
  }
  return first;
}

function promptHidden(question: string): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(question);
  return new Promise((resolve, reject) => {
    let typed = '';
    const finish = (err?: Error): void => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(typed);
    };
    const onData = (chunk: Buffer): void => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') {
          finish();
          return;
        }
        if (ch === '\u0003') {
          finish(new LadingError('USAGE', 'interrupted'));
          return;
        }
        if (ch === '\u007f' || ch === '\b') typed = typed.slice(0, -1);
        else typed += ch;
      }
    };
    stdin.setRawMode(true);
    stdin.resume();
    stdin.on('data', onData);
  });
}
