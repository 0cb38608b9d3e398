import {
  type Cmp,
  compareDigitStrings,
  invalidVersion,
  isDigitCode,
  MAX_VERSION_LENGTH,
  sign,
  type VersionScheme,
  validBy,
} from './scheme.js';

/*
 * Maven's ComparableVersion with the semantics of Maven master (4.x), which is what the upstream test suite in
 * test/fixtures/versions/maven.json asserts (978/978). It differs from 3.8.x/3.9.x in 4 of those cases: MNG-7714
 * (`1.0.final-redhat` < `1.0-sp1-redhat`, via the "combination" item `sp1`) and MNG-8241 (non-ASCII digits such as
 * U+0668 are letters, not digits). Non-ASCII text is accepted (Maven orders it as qualifiers); strings over 256
 * characters are refused, as master does. One deliberate simplification: where Java asks Character.isDigit on the
 * character after a '-', Lading asks for an ASCII digit (Java would parse "x-٨" as a number).
 */

type Item = NumItem | StrItem | ComboItem | ListItem;
interface NumItem {
  kind: 'num';
  /** Without leading zeros; "0" for zero. */
  digits: string;
}
interface StrItem {
  kind: 'str';
  value: string;
}
interface ComboItem {
  kind: 'combo';
  str: StrItem;
  digit: Item;
}
interface ListItem {
  kind: 'list';
  items: Item[];
}

const ZERO: NumItem = { kind: 'num', digits: '0' };
const QUALIFIERS = ['alpha', 'beta', 'milestone', 'rc', 'snapshot', '', 'sp'];
const RELEASE_QUALIFIERS = new Set(['ga', 'final', 'release']);
const RELEASE_INDEX = String(QUALIFIERS.indexOf(''));

function strItem(value: string, followedByDigit: boolean): StrItem {
  let v = value;
  if (followedByDigit && v.length === 1) {
    if (v === 'a') v = 'alpha';
    else if (v === 'b') v = 'beta';
    else if (v === 'm') v = 'milestone';
  }
  if (v === 'cr') v = 'rc';
  return { kind: 'str', value: v };
}

function comparableQualifier(q: string): string {
  if (RELEASE_QUALIFIERS.has(q)) return RELEASE_INDEX;
  const i = QUALIFIERS.indexOf(q);
  return i === -1 ? `${QUALIFIERS.length}-${q}` : String(i);
}

function cmpStrings(a: string, b: string): Cmp {
  return a < b ? -1 : a > b ? 1 : 0;
}

function numItem(buf: string): NumItem {
  let i = 0;
  while (i < buf.length && buf.charCodeAt(i) === 48) i++;
  return { kind: 'num', digits: i === buf.length ? '0' : buf.slice(i) };
}

function comboItem(value: string): ComboItem {
  let index = 0;
  for (let i = 0; i < value.length; i++) {
    if (isDigitCode(value.charCodeAt(i))) {
      index = i;
      break;
    }
  }
  return { kind: 'combo', str: strItem(value.slice(0, index), true), digit: numItem(value.slice(index)) };
}

function parseItem(isCombination: boolean, isDigit: boolean, buf: string): Item {
  if (isCombination) return comboItem(buf.replaceAll('-', ''));
  if (isDigit) return numItem(buf);
  return strItem(buf, false);
}

function isNull(item: Item): boolean {
  switch (item.kind) {
    case 'num':
      return item.digits === '0';
    case 'str':
      return item.value === '';
    case 'list':
      return item.items.length === 0;
    case 'combo':
      return false;
  }
}

/** Item.compareTo(other), with `null` standing for "the other version has no item here". */
function compareItem(item: Item, other: Item | null): Cmp {
  switch (item.kind) {
    case 'num':
      if (other === null) return item.digits === '0' ? 0 : 1;
      return other.kind === 'num' ? compareDigitStrings(item.digits, other.digits) : 1;
    case 'str':
      return compareStr(item, other);
    case 'combo':
      return compareCombo(item, other);
    case 'list':
      return compareList(item, other);
  }
}

function compareStr(item: StrItem, other: Item | null): Cmp {
  if (other === null) return cmpStrings(comparableQualifier(item.value), RELEASE_INDEX);
  switch (other.kind) {
    case 'num':
      return -1;
    case 'str':
      return cmpStrings(comparableQualifier(item.value), comparableQualifier(other.value));
    case 'combo': {
      const result = compareStr(item, other.str);
      if (result === 0) {
        if (compareStr(item, null) === 0) return negate(compareItem(other.digit, null));
        return -1;
      }
      return result;
    }
    case 'list':
      return negate(compareList(other, item));
  }
}

function compareCombo(item: ComboItem, other: Item | null): Cmp {
  if (other === null) {
    const result = compareStr(item.str, null);
    return result === 0 ? compareItem(item.digit, null) : result;
  }
  switch (other.kind) {
    case 'num':
      return -1;
    case 'str': {
      const result = compareStr(item.str, other);
      if (result === 0) return compareStr(item.str, null) === 0 ? compareItem(item.digit, null) : 1;
      return result;
    }
    case 'list':
      return negate(compareList(other, item));
    case 'combo': {
      const result = compareStr(item.str, other.str);
      return result === 0 ? compareItem(item.digit, other.digit) : result;
    }
  }
}

function compareList(list: ListItem, other: Item | null): Cmp {
  const items = list.items;
  if (other === null) {
    for (const i of items) {
      const r = compareItem(i, null);
      if (r !== 0) return r;
    }
    return 0;
  }
  switch (other.kind) {
    case 'num':
      return -1;
    case 'str':
    case 'combo': {
      let r = items.length === 0 ? negate(compareItem(other, null)) : compareItem(items[0]!, other);
      for (let i = 1; r === 0 && i < items.length; i++) r = compareItem(items[i]!, null);
      return r;
    }
    case 'list': {
      const right = other.items;
      const n = Math.max(items.length, right.length);
      for (let i = 0; i < n; i++) {
        const l = items[i];
        const r = right[i];
        const result =
          l === undefined ? (r === undefined ? 0 : negate(compareItem(r, null))) : compareItem(l, r ?? null);
        if (result !== 0) return result;
      }
      return 0;
    }
  }
}

function negate(c: Cmp): Cmp {
  return sign(-c);
}

function normalize(list: ListItem): void {
  const items = list.items;
  for (let i = items.length - 1; i >= 0; i--) {
    const last = items[i]!;
    if (!isNull(last)) continue;
    const next = items[i + 1];
    if (next === undefined || next.kind === 'str') {
      items.splice(i, 1);
    } else if (next.kind === 'list') {
      const first = next.items[0];
      if (first && (first.kind === 'combo' || first.kind === 'str')) items.splice(i, 1);
    }
  }
  const only = items[0];
  if (items.length === 1 && only?.kind === 'list') list.items = [...only.items];
}

export function parseMavenVersion(version: string): ListItem {
  if (version.length === 0) throw invalidVersion('Maven', version, 'empty');
  if (version.length > MAX_VERSION_LENGTH) {
    throw invalidVersion('Maven', version, `longer than ${MAX_VERSION_LENGTH} characters`);
  }
  for (let i = 0; i < version.length; i++) {
    const c = version.charCodeAt(i);
    if (c <= 0x20 || c === 0x7f) throw invalidVersion('Maven', version, 'contains a space or control character');
  }
  const v = version.toLowerCase();
  const root: ListItem = { kind: 'list', items: [] };
  let list = root;
  const stack: ListItem[] = [root];
  const push = (): void => {
    const sub: ListItem = { kind: 'list', items: [] };
    list.items.push(sub);
    list = sub;
    stack.push(sub);
  };
  let isDigit = false;
  let isCombination = false;
  let start = 0;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c === 46) {
      list.items.push(i === start ? ZERO : parseItem(isCombination, isDigit, v.slice(start, i)));
      isCombination = false;
      start = i + 1;
    } else if (c === 45) {
      if (i === start) {
        list.items.push(ZERO);
      } else {
        // X-1 reads as X1
        if (!isDigit && i !== v.length - 1 && isDigitCode(v.charCodeAt(i + 1))) {
          isCombination = true;
          continue;
        }
        list.items.push(parseItem(isCombination, isDigit, v.slice(start, i)));
      }
      start = i + 1;
      if (list.items.length > 0) push();
      isCombination = false;
    } else if (isDigitCode(c)) {
      if (!isDigit && i > start) {
        isCombination = true;
        if (list.items.length > 0) push();
      }
      isDigit = true;
    } else {
      if (isDigit && i > start) {
        list.items.push(parseItem(isCombination, true, v.slice(start, i)));
        start = i;
        push();
        isCombination = false;
      }
      isDigit = false;
    }
  }
  if (v.length > start) {
    // 1.0.0.X1 < 1.0.0-X2: a trailing ".X" reads as "-X"
    if (!isDigit && list.items.length > 0) push();
    list.items.push(parseItem(isCombination, isDigit, v.slice(start)));
  }
  while (stack.length > 0) normalize(stack.pop()!);
  return root;
}

export const mavenScheme: VersionScheme<ListItem> = {
  name: 'Maven',
  parse: parseMavenVersion,
  compareParsed: (a, b) => compareList(a, b),
  isValid: validBy(parseMavenVersion),
};
