/**
 * Finds which of a set of lower-case ASCII keywords occur in bytes, case-insensitively, in one pass: an
 * Aho–Corasick automaton compiled to a full transition table (state × byte), so the inner loop is one table
 * lookup per byte. A JavaScript RegExp alternation of the same keywords ran at ~60 MB/s on source trees (V8 tries
 * the alternation at nearly every position); this runs at several hundred MB/s, on the raw bytes, before any text
 * is decoded.
 */
export class KeywordAutomaton {
  private readonly delta: Uint16Array;
  /** Per state: the keywords (indices) that end there, including through failure links; empty for most. */
  private readonly outputs: (readonly number[])[];
  private readonly hasOutput: Uint8Array;

  constructor(readonly keywords: readonly string[]) {
    const goto: Map<number, number>[] = [new Map()];
    const out: number[][] = [[]];
    for (const [k, word] of keywords.entries()) {
      let s = 0;
      for (let i = 0; i < word.length; i++) {
        const c = word.charCodeAt(i);
        if (c > 0x7f) throw new Error(`keyword ${JSON.stringify(word)} is not ASCII`);
        let next = goto[s]?.get(c);
        if (next === undefined) {
          next = goto.length;
          goto.push(new Map());
          out.push([]);
          goto[s]?.set(c, next);
        }
        s = next;
      }
      out[s]?.push(k);
    }
    const states = goto.length;
    if (states > 0xffff) throw new Error('too many keyword states');
    const delta = new Uint16Array(states * 256);
    const fail = new Int32Array(states);
    // Breadth first: a state's failure target is shallower, so its row is complete when the state is reached.
    const queue: number[] = [];
    for (let c = 0; c < 256; c++) {
      const next = goto[0]?.get(c);
      delta[c] = next ?? 0;
      if (next !== undefined) queue.push(next);
    }
    for (let head = 0; head < queue.length; head++) {
      const s = queue[head] as number;
      const f = fail[s] as number;
      out[s] = [...(out[s] ?? []), ...(out[f] ?? [])];
      for (let c = 0; c < 256; c++) {
        const next = goto[s]?.get(c);
        if (next === undefined) {
          delta[s * 256 + c] = delta[f * 256 + c] as number;
        } else {
          delta[s * 256 + c] = next;
          fail[next] = s === 0 ? 0 : (delta[f * 256 + c] as number);
          queue.push(next);
        }
      }
    }
    // Upper-case letters move as their lower-case forms (the keywords are lower case).
    for (let s = 0; s < states; s++) {
      for (let c = 0x41; c <= 0x5a; c++) delta[s * 256 + c] = delta[s * 256 + c + 0x20] as number;
    }
    this.delta = delta;
    this.outputs = out;
    this.hasOutput = Uint8Array.from(out, (o) => (o.length > 0 ? 1 : 0));
  }

  /** Indices of the keywords found in `bytes` (each once), stopping early once all of them were. */
  find(bytes: Uint8Array): Set<number> {
    const found = new Set<number>();
    const { delta, hasOutput, outputs } = this;
    const all = this.keywords.length;
    let s = 0;
    const n = bytes.length;
    for (let i = 0; i < n; i++) {
      s = delta[(s << 8) | (bytes[i] as number)] as number;
      if (hasOutput[s] !== 0) {
        for (const k of outputs[s] as number[]) found.add(k);
        if (found.size === all) break;
      }
    }
    return found;
  }
}
