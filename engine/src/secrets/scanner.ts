import { createHash, type Hash } from 'node:crypto';
import { KeywordAutomaton } from './keywords.js';
import { isKnownPublicSecret, normaliseSecret } from './known-keys.js';
import { redact, secretFingerprint, shannonEntropy } from './redact.js';
import { SECRET_RULES, type SecretRule } from './rules.js';

/** One secret as the scan of one file found it: never the secret itself, so it can be kept (the layer cache). */
export interface SecretMatch {
  rule: string;
  /** 1-based line of the match's first character. */
  line: number;
  redacted: string;
  fingerprint: string;
}

/** What the scan of one file keeps: its matches and, for the package-database check, the file's digests. */
export interface FileSecretScan {
  matches: SecretMatch[];
  /** Hex digests of the whole file (set when it has matches): dpkg md5sums, apk's sha1, rpm's sha256. */
  md5?: string;
  sha1?: string;
  sha256?: string;
}

interface CompiledRule {
  rule: SecretRule;
  regex: RegExp;
}

/** The rules compiled once, with one case-insensitive prefilter of all their keywords. */
export interface CompiledRules {
  rules: readonly CompiledRule[];
  /** Finds the keywords in raw bytes; `byKeyword[i]` are the rules keyword `i` triggers. */
  prefilter: KeywordAutomaton;
  byKeyword: readonly (readonly CompiledRule[])[];
}

export function compileRules(rules: readonly SecretRule[] = SECRET_RULES): CompiledRules {
  const compiled = rules.map((rule) => ({ rule, regex: new RegExp(rule.pattern, `g${rule.flags ?? ''}`) }));
  const byKeyword = new Map<string, CompiledRule[]>();
  for (const c of compiled) {
    for (const k of c.rule.keywords) byKeyword.set(k, [...(byKeyword.get(k) ?? []), c]);
  }
  const words = [...byKeyword.keys()];
  return {
    rules: compiled,
    prefilter: new KeywordAutomaton(words),
    byKeyword: words.map((w) => byKeyword.get(w) ?? []),
  };
}

/** Bytes of text scanned at a time. */
const WINDOW = 1 << 20;
/**
 * Bytes each window shares with the next: every rule's match is bounded below this, so a secret that straddles two
 * windows is whole in one of them. A match is taken from the window where it starts before the shared tail.
 */
export const OVERLAP = 64 * 1024;
/** A file with a NUL byte in its first bytes is binary (git's test): not scanned further. */
const SNIFF = 8000;
/** Files up to this size are kept while scanned, and hashed only when they hold a secret. */
const HOLD = 1 << 20;

/**
 * Scans one file's bytes as they stream past, in windows of at most `WINDOW` bytes with an `OVERLAP` tail, so a
 * file of any size costs a bounded amount of memory. Text is read as latin1: one character per byte, so offsets
 * and lines are exact whatever the encoding (secrets are ASCII).
 */
export class SecretFileScanner {
  private carry: Buffer = Buffer.alloc(0);
  /** Line number at the start of `carry`. */
  private carryLine = 1;
  private readonly matches: SecretMatch[] = [];
  private binary = false;
  private sniffed = 0;
  private held: Buffer[] | undefined = [];
  private heldBytes = 0;
  private hashes: { md5: Hash; sha1: Hash; sha256: Hash } | undefined;
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(
    private readonly rules: CompiledRules,
    private readonly path: string,
  ) {}

  /** Feeds the next bytes of the file. */
  write(chunk: Buffer): void {
    if (this.binary || chunk.length === 0) return;
    if (this.sniffed < SNIFF) {
      const head = chunk.subarray(0, SNIFF - this.sniffed);
      this.sniffed += head.length;
      if (head.includes(0)) {
        this.binary = true;
        this.held = undefined;
        this.pending = [];
        return;
      }
    }
    this.keepForDigest(chunk);
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    while (this.pendingBytes >= WINDOW) this.scanWindow(this.take(WINDOW), false);
  }

  /** Ends the file: what it holds, or undefined when no secret was found. */
  end(): FileSecretScan | undefined {
    if (this.binary) return undefined;
    this.scanWindow(this.take(this.pendingBytes), true);
    if (this.matches.length === 0) return undefined;
    const digests = this.digests();
    return { matches: this.matches, ...digests };
  }

  private keepForDigest(chunk: Buffer): void {
    if (this.held && this.heldBytes + chunk.length <= HOLD) {
      this.held.push(chunk);
      this.heldBytes += chunk.length;
      return;
    }
    if (!this.hashes) {
      // Larger than we keep: hash as it streams (rare; small files are hashed only when they hold a secret).
      this.hashes = { md5: createHash('md5'), sha1: createHash('sha1'), sha256: createHash('sha256') };
      for (const held of this.held ?? []) this.updateHashes(held);
      this.held = undefined;
    }
    this.updateHashes(chunk);
  }

  private updateHashes(chunk: Buffer): void {
    const h = this.hashes as NonNullable<typeof this.hashes>;
    h.md5.update(chunk);
    h.sha1.update(chunk);
    h.sha256.update(chunk);
  }

  private digests(): { md5: string; sha1: string; sha256: string } {
    if (!this.hashes) {
      this.hashes = { md5: createHash('md5'), sha1: createHash('sha1'), sha256: createHash('sha256') };
      for (const held of this.held ?? []) this.updateHashes(held);
    }
    const { md5, sha1, sha256 } = this.hashes;
    return { md5: md5.digest('hex'), sha1: sha1.digest('hex'), sha256: sha256.digest('hex') };
  }

  /** The first `n` pending bytes, as one buffer (copied only when they span several chunks). */
  private take(n: number): Buffer {
    const parts: Buffer[] = [];
    let left = n;
    while (left > 0) {
      const head = this.pending[0] as Buffer;
      if (head.length <= left) {
        parts.push(head);
        left -= head.length;
        this.pending.shift();
      } else {
        parts.push(head.subarray(0, left));
        this.pending[0] = head.subarray(left);
        left = 0;
      }
    }
    this.pendingBytes -= n;
    return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, n);
  }

  private scanWindow(fresh: Buffer, last: boolean): void {
    const bytes = this.carry.length === 0 ? fresh : Buffer.concat([this.carry, fresh]);
    // Matches starting in the shared tail are taken by the next window, which sees them whole.
    const acceptBefore = last ? bytes.length : Math.max(0, bytes.length - OVERLAP);
    const triggered = this.triggered(bytes);
    if (triggered.size > 0) {
      // Decoded only when a keyword occurs: latin1 keeps one character per byte, so offsets and lines are exact.
      const text = bytes.toString('latin1');
      let lineAt = 0;
      let line = this.carryLine;
      const lineOf = (index: number) => {
        // Matches come in increasing order per rule only: recount from the start when asked backwards.
        if (index < lineAt) {
          lineAt = 0;
          line = this.carryLine;
        }
        line += countNewlines(bytes, lineAt, index);
        lineAt = index;
        return line;
      };
      for (const c of triggered) this.runRule(c, text, acceptBefore, lineOf);
    }
    if (!last) {
      this.carryLine += countNewlines(bytes, 0, acceptBefore);
      // Copied: the window's buffer may be a chunk the caller reuses.
      this.carry = Buffer.from(bytes.subarray(acceptBefore));
    }
  }

  private triggered(bytes: Buffer): Set<CompiledRule> {
    const out = new Set<CompiledRule>();
    for (const k of this.rules.prefilter.find(bytes)) for (const c of this.rules.byKeyword[k] ?? []) out.add(c);
    return out;
  }

  private runRule(c: CompiledRule, text: string, acceptBefore: number, lineOf: (i: number) => number): void {
    const { rule, regex } = c;
    regex.lastIndex = 0;
    for (let m = regex.exec(text); m !== null; m = regex.exec(text)) {
      if (m[0].length === 0) regex.lastIndex++;
      if (m.index >= acceptBefore) break;
      const raw = m[rule.group ?? 0];
      if (raw === undefined || raw.length === 0) continue;
      // A PEM body is the same key whatever its line breaks: shown, fingerprinted and compared without them.
      const secret = normaliseSecret(raw);
      if (rule.entropy !== undefined && shannonEntropy(secret) < rule.entropy) continue;
      if (rule.allow?.test(secret)) continue;
      if (isKnownPublicSecret(secret)) continue;
      this.matches.push({
        rule: rule.id,
        line: lineOf(m.index),
        redacted: redact(secret),
        fingerprint: secretFingerprint(rule.id, this.path, secret),
      });
    }
  }
}

function countNewlines(bytes: Buffer, from: number, to: number): number {
  let n = 0;
  for (let i = bytes.indexOf(10, from); i !== -1 && i < to; i = bytes.indexOf(10, i + 1)) n++;
  return n;
}

/** Scans a whole buffer (tests, and files the walk already holds). */
export function scanBuffer(rules: CompiledRules, path: string, content: Buffer): FileSecretScan | undefined {
  const scanner = new SecretFileScanner(rules, path);
  scanner.write(content);
  return scanner.end();
}
