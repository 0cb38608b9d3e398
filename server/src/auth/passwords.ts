// Passwords: node:crypto scrypt with N=2^16, r=8, p=1 (SERVER.md section 7), stored as a self-describing PHC-style
// string `$scrypt$ln=16,r=8,p=1$<salt b64>$<hash b64>` so that the parameters can be raised later without a
// migration: a stored hash is always verified with its own parameters.
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

const LOG2_N = 16;
const R = 8;
const P = 1;
const KEY_LENGTH = 32;
const SALT_LENGTH = 16;
/** The most any password may be: scrypt reads all of it, and nobody types more. */
export const MAX_PASSWORD_LENGTH = 1024;
export const MIN_PASSWORD_LENGTH = 12;
const STORED_SHAPE = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]+={0,2})\$([A-Za-z0-9+/]+={0,2})$/;

function derive(password: string, salt: Buffer, log2n: number, r: number, p: number, length: number): Promise<Buffer> {
  const N = 2 ** log2n;
  // scrypt needs 128·N·r bytes; Node's default cap (32 MiB) is below N=2^16, r=8 (64 MiB).
  const maxmem = 128 * N * r * p + 16 * 1024 * 1024;
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, length, { N, r, p, maxmem }, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_LENGTH);
  const key = await derive(password, salt, LOG2_N, R, P, KEY_LENGTH);
  return `$scrypt$ln=${LOG2_N},r=${R},p=${P}$${salt.toString('base64')}$${key.toString('base64')}`;
}

/** Whether `password` matches `stored`. A malformed or unsupported stored string never matches. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  if (password.length > MAX_PASSWORD_LENGTH) return false;
  const m = STORED_SHAPE.exec(stored);
  if (!m) return false;
  const [log2n, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  // Parameters come from our own database, but bound them anyway so a corrupted row cannot exhaust memory.
  if (log2n < 10 || log2n > 20 || r < 1 || r > 16 || p < 1 || p > 4) return false;
  const salt = Buffer.from(m[4]!, 'base64');
  const expected = Buffer.from(m[5]!, 'base64');
  if (expected.length < 16) return false;
  const key = await derive(password, salt, log2n, r, p, expected.length);
  return timingSafeEqual(key, expected);
}

/** Why `password` cannot be set, or undefined. */
export function passwordProblem(password: unknown): string | undefined {
  if (typeof password !== 'string') return 'password must be a string';
  if (password.length < MIN_PASSWORD_LENGTH) return `password must be at least ${MIN_PASSWORD_LENGTH} characters`;
  if (password.length > MAX_PASSWORD_LENGTH) return `password must be at most ${MAX_PASSWORD_LENGTH} characters`;
  return undefined;
}
