/** One paragraph of a deb822 file (dpkg `status`): lower-cased field name → value, continuation lines joined by `\n`. */
export type Stanza = Map<string, string>;

/** Paragraphs larger than this are not real dpkg records (the largest Conffiles lists are some KiB). */
export const MAX_STANZA_BYTES = 4 * 1024 * 1024;

export interface StanzaEvent {
  stanza: Stanza;
  /** 1-based line of the paragraph's first line, for warnings. */
  line: number;
  /** Fields (among those read) given more than once: dpkg refuses such a paragraph; the first value is kept. */
  duplicates: string[];
  /** Set on the file's last paragraph when the file ends mid-line: the field that was cut, or `` if none was. */
  cutField?: string;
}

interface ParseInfo {
  duplicates: string[];
  /** The field the paragraph's last line belongs to. */
  lastField?: string;
}

const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const TAB = 0x09;
const COLON = 0x3a;

/**
 * Splits a dpkg status buffer into paragraphs and parses them straight from the bytes, so a huge database costs
 * time linear in its size and memory proportional to one paragraph. Only the `fields` asked for are decoded
 * (descriptions and conffile lists are most of a status file). Oversized paragraphs are reported and skipped.
 */
export function* readStanzas(
  content: Buffer,
  onOversized: (line: number, bytes: number) => void,
  fields?: ReadonlySet<string>,
): Generator<StanzaEvent> {
  let pos = 0;
  let line = 1;
  const end = content.length;
  while (pos < end) {
    while (pos < end && (content[pos] === LF || content[pos] === CR)) {
      if (content[pos] === LF) line++;
      pos++;
    }
    if (pos >= end) break;
    let stop = content.indexOf('\n\n', pos);
    if (stop < 0) stop = end;
    if (stop - pos > MAX_STANZA_BYTES) {
      onOversized(line, stop - pos);
      line += countNewlines(content, pos, stop);
    } else {
      const stanza = new Map<string, string>();
      const info: ParseInfo = { duplicates: [] };
      const lines = parseRange(content, pos, stop, stanza, fields, info);
      const event: StanzaEvent = { stanza, line, duplicates: info.duplicates };
      // A status file dpkg wrote always ends with a newline: without one, the last value may be cut short.
      if (stop === end && content[end - 1] !== LF) event.cutField = info.lastField ?? '';
      yield event;
      line += lines;
    }
    pos = stop;
  }
}

function countNewlines(buf: Buffer, from: number, to: number): number {
  let n = 0;
  for (let i = buf.indexOf(LF, from); i >= 0 && i < to; i = buf.indexOf(LF, i + 1)) n++;
  return n;
}

/** Parses the paragraph in `buf[start, end)` into `out`; returns the number of newlines it spans. */
function parseRange(
  buf: Buffer,
  start: number,
  end: number,
  out: Stanza,
  fields?: ReadonlySet<string>,
  info: ParseInfo = { duplicates: [] },
): number {
  let newlines = 0;
  let current: string | undefined;
  let pos = start;
  while (pos < end) {
    let eol = buf.indexOf(LF, pos);
    if (eol < 0 || eol > end) eol = end;
    else newlines++;
    let lineEnd = eol;
    if (lineEnd > pos && buf[lineEnd - 1] === CR) lineEnd--;
    if (lineEnd > pos) {
      const first = buf[pos];
      if (first === SPACE || first === TAB) {
        if (current !== undefined) {
          out.set(current, `${out.get(current) ?? ''}\n${decodeTrimmed(buf, pos, lineEnd)}`);
        }
      } else {
        const colon = buf.indexOf(COLON, pos);
        info.lastField = undefined;
        if (colon <= pos || colon >= lineEnd) current = undefined;
        else {
          const name = buf.toString('latin1', pos, colon).trim().toLowerCase();
          info.lastField = name;
          if (fields && !fields.has(name)) current = undefined;
          else if (out.has(name)) {
            if (!info.duplicates.includes(name)) info.duplicates.push(name);
            current = undefined;
          } else {
            current = name;
            out.set(name, decodeTrimmed(buf, colon + 1, lineEnd));
          }
        }
      }
    }
    pos = eol + 1;
  }
  return newlines;
}

/**
 * Decodes `buf[start, end)` without its surrounding blanks. Skipping them before decoding (rather than trimming
 * after) yields a string of its own: a trimmed one would be a slice that keeps the untrimmed copy alive.
 */
function decodeTrimmed(buf: Buffer, start: number, end: number): string {
  let from = start;
  let to = end;
  while (from < to && (buf[from] === SPACE || buf[from] === TAB)) from++;
  while (to > from && (buf[to - 1] === SPACE || buf[to - 1] === TAB || buf[to - 1] === CR)) to--;
  return buf.toString('utf8', from, to).trim();
}

/** Parses one paragraph given as text (all fields). */
export function parseStanza(text: string): Stanza {
  const out: Stanza = new Map();
  const buf = Buffer.from(text);
  parseRange(buf, 0, buf.length, out);
  return out;
}
