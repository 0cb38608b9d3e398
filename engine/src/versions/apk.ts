import {
  type Cmp,
  checkOrderable,
  compareDigitStrings,
  compareStrings,
  isDigitCode,
  type VersionScheme,
} from './scheme.js';

/*
 * apk-tools 2.x (the 2.12–2.14-stable lexer, the apk of Alpine 3.x) version order:
 * digit{.digit}…{letter}{_suffix{n}}…{-rN}. Where apk-tools master (v3) differs, Lading follows 2.x because
 * Alpine 3.x's own databases and advisories are ordered by it:
 *  - master adds a `~hash` commit component (`1.0~1234-r1`); on 2.x '~' makes the rest of the string invalid, so
 *    such versions compare equal up to the hash;
 *  - `0.1-r` (revision without digits) is valid on 2.x, invalid on master.
 * A component after '.' with a leading zero is compared as a string (Gentoo rule), not as a number, on both.
 */

enum Tok {
  InitialDigit = 0,
  Digit = 1,
  Letter = 2,
  Suffix = 3,
  SuffixNo = 4,
  RevisionNo = 5,
  End = 6,
  Invalid = 7,
}

/** Pre-release suffixes sort below "no suffix" (5), post-release ones above it. */
const SUFFIXES: Record<string, number> = { alpha: 1, beta: 2, pre: 3, rc: 4, cvs: 6, svn: 7, git: 8, hg: 9, p: 10 };
const SUFFIX_NONE = 5;

function isLower(c: number): boolean {
  return c >= 97 && c <= 122;
}

class ApkTokens {
  token: Tok = Tok.Invalid;
  value = '';
  suffix = 0;
  private pos = 0;

  constructor(private readonly s: string) {
    const end = this.span(0, isDigitCode);
    this.value = s.slice(0, end);
    this.pos = end;
    this.token = end > 0 ? Tok.InitialDigit : Tok.Invalid;
  }

  private span(from: number, pred: (c: number) => boolean): number {
    let i = from;
    while (i < this.s.length && pred(this.s.charCodeAt(i))) i++;
    return i;
  }

  private take(from: number, pred: (c: number) => boolean): void {
    const end = this.span(from, pred);
    this.value = this.s.slice(from, end);
    this.pos = end;
  }

  next(): void {
    this.token = this.lex(this.token);
  }

  /** The kind of the token starting at `pos` (reading its value), given the previous token's kind. */
  private lex(prev: Tok): Tok {
    const s = this.s;
    if (this.pos >= s.length) return Tok.End;
    const c = s.charCodeAt(this.pos);
    if (isLower(c)) {
      if (prev > Tok.Digit) return Tok.Invalid;
      this.value = s[this.pos]!;
      this.pos++;
      return Tok.Letter;
    }
    if (c === 46 || isDigitCode(c)) {
      if (c === 46) {
        if (prev > Tok.Digit) return Tok.Invalid;
        this.pos++;
      }
      this.take(this.pos, isDigitCode);
      if (prev === Tok.Suffix) return Tok.SuffixNo;
      if (prev === Tok.InitialDigit || prev === Tok.Digit) return Tok.Digit;
      return Tok.Invalid;
    }
    if (c === 95) {
      if (prev > Tok.SuffixNo) return Tok.Invalid;
      this.take(this.pos + 1, isLower);
      this.suffix = SUFFIXES[this.value] ?? 0;
      return this.suffix === 0 ? Tok.Invalid : Tok.Suffix;
    }
    if (c === 45 && prev < Tok.RevisionNo && s[this.pos + 1] === 'r') {
      this.take(this.pos + 2, isDigitCode);
      return Tok.RevisionNo;
    }
    return Tok.Invalid;
  }
}

function compareTokens(a: ApkTokens, b: ApkTokens): Cmp {
  switch (a.token) {
    case Tok.Digit:
      // a leading zero makes both a plain string comparison
      if (a.value.startsWith('0') || b.value.startsWith('0')) return compareStrings(a.value, b.value);
      return compareDigitStrings(a.value || '0', b.value || '0');
    case Tok.InitialDigit:
    case Tok.SuffixNo:
    case Tok.RevisionNo:
      return compareDigitStrings(a.value || '0', b.value || '0');
    case Tok.Letter:
      return compareStrings(a.value, b.value);
    case Tok.Suffix:
      return a.suffix < b.suffix ? -1 : a.suffix > b.suffix ? 1 : 0;
    default:
      return compareStrings(a.value, b.value);
  }
}

/**
 * apk_version_compare on any string: apk orders even invalid versions, token by token up to the first invalid one.
 * `fuzzy` is apk's `~` match: b being a prefix of a (token-wise) counts as equal.
 */
export function compareApk(a: string, b: string, fuzzy = false): Cmp {
  const ta = new ApkTokens(a);
  const tb = new ApkTokens(b);
  while (ta.token === tb.token && ta.token < Tok.End) {
    const r = compareTokens(ta, tb);
    if (r !== 0) return r;
    ta.next();
    tb.next();
  }
  if (ta.token === tb.token) return 0;
  if (tb.token === Tok.End && fuzzy) return 0;
  if (ta.token === Tok.Suffix && ta.suffix < SUFFIX_NONE) return -1;
  if (tb.token === Tok.Suffix && tb.suffix < SUFFIX_NONE) return 1;
  return ta.token > tb.token ? -1 : 1;
}

/** apk_version_validate: the whole string lexes into tokens up to the end. */
export function isValidApk(version: string): boolean {
  const t = new ApkTokens(version);
  while (t.token < Tok.End) t.next();
  return t.token === Tok.End;
}

export const apkScheme: VersionScheme<string> = {
  name: 'apk',
  /**
   * apk_version_compare orders every string, the empty one included (its token walk stops at the first invalid
   * token), so parse accepts them too.
   */
  parse(version) {
    checkOrderable('apk', version, true);
    return version;
  },
  compareParsed: (a, b) => compareApk(a, b),
  isValid: (version) => version.length > 0 && isValidApk(version),
};

/** apk_version_match for a dependency operator made of `<`, `>`, `=` and `~` (fuzzy: prefix match). */
export function apkVersionMatch(a: string, op: string, b: string): boolean {
  const fuzzy = op.includes('~');
  const r = compareApk(a, b, fuzzy);
  if (r < 0) return op.includes('<');
  if (r > 0) return op.includes('>');
  return op.includes('=') || fuzzy;
}
