import { createHash } from 'node:crypto';

/**
 * Variable names that say "credential": a value under such a name is reported. `PWD` (the working directory) and
 * names that point at a secret rather than hold one (`*_FILE`, `*_PATH`, `*_DIR`) are not.
 */
const SECRET_NAME = /PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|CREDENTIAL/i;
const POINTER_NAME = /_(FILE|PATH|DIR)$/i;

/** Known credential formats, whatever the name (a subset of common rule sets: cloud keys, forge and chat tokens). */
const SECRET_VALUES: { rule: string; pattern: RegExp }[] = [
  { rule: 'aws-access-key-id', pattern: /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/ },
  { rule: 'github-token', pattern: /\bgh[pousr]_[A-Za-z0-9]{36,255}\b/ },
  { rule: 'github-fine-grained-token', pattern: /\bgithub_pat_[A-Za-z0-9_]{82}\b/ },
  { rule: 'gitlab-token', pattern: /\bglpat-[A-Za-z0-9_-]{20,}\b/ },
  { rule: 'slack-token', pattern: /\bxox[abposr]-[A-Za-z0-9-]{10,}\b/ },
  { rule: 'slack-webhook', pattern: /https:\/\/hooks\.slack\.com\/services\/[A-Za-z0-9+/]{40,}/ },
  { rule: 'npm-token', pattern: /\bnpm_[A-Za-z0-9]{36}\b/ },
  { rule: 'pypi-token', pattern: /\bpypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,}/ },
  { rule: 'private-key', pattern: /-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----/ },
  { rule: 'jwt', pattern: /\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/ },
  // A URL with a password in its user info (`postgres://app:hunter2@db/…`); `user:@` has none.
  { rule: 'url-password', pattern: /\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@]+:[^\s/@]+@[^\s/]+/i },
];

export interface ConfigSecret {
  /** Where: `env NAME`, `label NAME`, `history step 3`. */
  where: string;
  /** The rule or name that matched. */
  why: string;
  /** The value as it may be shown: never whole. */
  masked: string;
}

/**
 * A secret as it may be printed: its first characters (at most 4, and at most a third of it) and the first 12 hex
 * digits of its SHA-256, enough to recognise it without revealing it.
 */
export function maskSecret(value: string): string {
  const shown = value.slice(0, Math.min(4, Math.floor(value.length / 3)));
  const digest = createHash('sha256').update(value).digest('hex').slice(0, 12);
  return `${shown}… (sha256:${digest})`;
}

/** The first known credential format in a value, as [rule, matched text]. */
function knownFormat(value: string): [string, string] | undefined {
  for (const { rule, pattern } of SECRET_VALUES) {
    const m = pattern.exec(value);
    if (m) return [rule, m[0]];
  }
  return undefined;
}

/** A `NAME=value` pair (an env entry, a label, an assignment in a history step), if it looks like a secret. */
export function secretInAssignment(where: string, name: string, value: string): ConfigSecret | undefined {
  const known = knownFormat(value);
  if (known) return { where, why: known[0], masked: maskSecret(known[1]) };
  if (value === '' || !SECRET_NAME.test(name) || POINTER_NAME.test(name) || /^PWD$/i.test(name)) return undefined;
  // A path or a reference to something else (`/run/secrets/db`, `${DB_PASSWORD}`) is not the secret itself.
  if (value.startsWith('/') || /^\$\{?[A-Za-z_]/.test(value)) return undefined;
  return { where, why: `name ${name}`, masked: maskSecret(value) };
}

const ASSIGNMENT = /\b([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|'[^']*'|[^\s"';&|]+)/g;

/** Secrets in a history step's command: assignments under secret names (ENV, ARG, RUN A=b …) and known formats. */
export function secretsInCommand(where: string, command: string): ConfigSecret[] {
  const found: ConfigSecret[] = [];
  const seen = new Set<string>();
  for (const m of command.matchAll(ASSIGNMENT)) {
    const name = m[1] as string;
    const value = (m[2] as string).replace(/^(["'])(.*)\1$/, '$2');
    const hit = secretInAssignment(where, name, value);
    if (hit && !seen.has(hit.masked)) {
      seen.add(hit.masked);
      found.push(hit);
    }
  }
  const known = knownFormat(command);
  if (known) {
    const masked = maskSecret(known[1]);
    if (!seen.has(masked)) found.push({ where, why: known[0], masked });
  }
  return found;
}
