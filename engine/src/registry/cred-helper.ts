import { spawn } from 'node:child_process';
import { LadingError } from '../errors/lading-error.js';
import type { Credentials } from './credentials.js';

const HELPER_TIMEOUT_MS = 30_000;
const MAX_OUTPUT = 64 * 1024;

/**
 * Runs `docker-credential-<name> get` with the server URL on stdin (the docker-credential-helpers protocol).
 * Returns undefined when the helper knows no credentials for the server.
 */
export function runCredentialHelper(name: string, serverUrl: string): Promise<Credentials | undefined> {
  const program = `docker-credential-${name}`;
  return new Promise((resolve, reject) => {
    const child = spawn(program, ['get'], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let size = 0;
    const timer = setTimeout(() => child.kill('SIGKILL'), HELPER_TIMEOUT_MS);
    child.stdout.on('data', (d: Buffer) => {
      size += d.length;
      if (size <= MAX_OUTPUT) out.push(d);
    });
    child.stderr.resume();
    child.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      const why = err.code === 'ENOENT' ? 'not found on PATH' : err.message;
      reject(new LadingError('AUTH', `credential helper ${program}: ${why}`));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      const text = Buffer.concat(out).toString('utf8').trim();
      if (code !== 0) {
        // The protocol's way of saying "nothing stored for this server".
        if (/credentials not found/i.test(text)) resolve(undefined);
        else
          reject(new LadingError('AUTH', `credential helper ${program} failed for ${serverUrl}: ${firstLine(text)}`));
        return;
      }
      resolve(parseHelperOutput(program, text));
    });
    child.stdin.on('error', () => {
      // A helper that exits without reading stdin is judged by its exit code above.
    });
    child.stdin.end(serverUrl);
  });
}

function parseHelperOutput(program: string, text: string): Credentials | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new LadingError('AUTH', `credential helper ${program} printed something other than JSON`);
  }
  if (typeof parsed !== 'object' || parsed === null) {
    throw new LadingError('AUTH', `credential helper ${program} printed no JSON object`);
  }
  const { Username: username, Secret: secret } = parsed as { Username?: unknown; Secret?: unknown };
  if (typeof secret !== 'string' || secret === '') return undefined;
  // docker's convention: this user name marks the secret as an identity (refresh) token.
  if (username === '<token>') return { identityToken: secret };
  return { username: typeof username === 'string' ? username : '', password: secret };
}

function firstLine(s: string): string {
  return (s.split('\n')[0] ?? '').slice(0, 200) || 'no output';
}
