import { thrownValueText } from '../../../errors/lading-error.js';
import { isRecord } from '../common.js';

/** One package of a Yarn Plug'n'Play install, as `.pnp.cjs` records it. */
export interface PnpPackage {
  name: string;
  /** The Yarn locator reference: `npm:4.17.21`, `patch:…::version=1.22.8&hash=…`, `workspace:.`, `virtual:…`. */
  reference: string;
  /** Relative to the directory holding `.pnp.cjs`: `./.yarn/cache/x-npm-1.0.0-….zip/node_modules/x/`. */
  packageLocation: string;
  dependencies: string[];
}

export class PnpStateError extends Error {}

const STATE_VARIABLE = 'RAW_RUNTIME_STATE';

/**
 * The runtime state Yarn 2+ embeds in `.pnp.cjs`/`.pnp.js` (`const RAW_RUNTIME_STATE = '{…}';`, a JS string
 * literal with `\` line continuations), or the whole of `.pnp.data.json` when Yarn was told not to inline it.
 * Decodes the literal itself: the file is never evaluated.
 */
export function pnpStateText(content: Buffer, isDataJson: boolean): string {
  const text = content.toString('utf8');
  if (isDataJson) return text;
  const at = text.indexOf(STATE_VARIABLE);
  if (at < 0) throw new PnpStateError(`no ${STATE_VARIABLE} in the PnP file`);
  let pos = text.indexOf('=', at + STATE_VARIABLE.length);
  if (pos < 0) throw new PnpStateError(`${STATE_VARIABLE} has no value`);
  pos++;
  while (pos < text.length && /\s/.test(text[pos] ?? '')) pos++;
  const quote = text[pos];
  if (quote !== "'" && quote !== '"') throw new PnpStateError(`${STATE_VARIABLE} is not a string literal`);
  return decodeStringLiteral(text, pos + 1, quote);
}

const SIMPLE_ESCAPES: Record<string, string> = { n: '\n', r: '\r', t: '\t', b: '\b', f: '\f', v: '\v', '0': '\0' };

/** The value of the JS string literal starting after its opening `quote` at `start`. */
function decodeStringLiteral(text: string, start: number, quote: string): string {
  const parts: string[] = [];
  let run = start;
  for (let pos = start; pos < text.length; pos++) {
    const ch = text[pos];
    if (ch === quote) {
      parts.push(text.slice(run, pos));
      return parts.join('');
    }
    if (ch === '\n') throw new PnpStateError('unterminated string literal');
    if (ch !== '\\') continue;
    parts.push(text.slice(run, pos));
    const next = text[pos + 1];
    if (next === undefined) break;
    if (next === '\r' && text[pos + 2] === '\n') pos += 2;
    else if (next === '\n' || next === '\r') pos += 1;
    else if (next === 'u' || next === 'x') {
      const digits = next === 'u' ? 4 : 2;
      const hex = text.slice(pos + 2, pos + 2 + digits);
      if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== digits) throw new PnpStateError('bad escape in literal');
      parts.push(String.fromCharCode(Number.parseInt(hex, 16)));
      pos += 1 + digits;
    } else {
      parts.push(SIMPLE_ESCAPES[next] ?? next);
      pos += 1;
    }
    run = pos + 1;
  }
  throw new PnpStateError('unterminated string literal');
}

/** `packageRegistryData`: `[name, [[reference, { packageLocation, packageDependencies }], …]]` per package name. */
export function pnpPackages(stateText: string): PnpPackage[] {
  let state: unknown;
  try {
    state = JSON.parse(stateText);
  } catch (err) {
    throw new PnpStateError(`malformed PnP state JSON: ${thrownValueText(err)}`);
  }
  if (!isRecord(state) || !Array.isArray(state.packageRegistryData)) {
    throw new PnpStateError('PnP state has no packageRegistryData');
  }
  const packages: PnpPackage[] = [];
  for (const byName of state.packageRegistryData) {
    if (!Array.isArray(byName) || typeof byName[0] !== 'string' || !Array.isArray(byName[1])) continue;
    const name = byName[0];
    for (const byReference of byName[1]) {
      if (!Array.isArray(byReference) || typeof byReference[0] !== 'string' || !isRecord(byReference[1])) continue;
      const info = byReference[1];
      if (typeof info.packageLocation !== 'string') continue;
      const dependencies = Array.isArray(info.packageDependencies)
        ? info.packageDependencies
            .filter((d): d is [string, string] => Array.isArray(d) && typeof d[0] === 'string' && d[1] !== null)
            .map((d) => d[0])
            .filter((dep) => dep !== name)
        : [];
      packages.push({ name, reference: byReference[0], packageLocation: info.packageLocation, dependencies });
    }
  }
  return packages;
}

/**
 * The registry version a reference stands for: `npm:1.2.3` → `1.2.3`, a patched package's
 * `patch:x@npm%3A1.2.3#…::version=1.2.3&hash=…` → `1.2.3`; undefined for workspaces, links, git and file sources.
 */
export function pnpVersion(reference: string): string | undefined {
  if (reference.startsWith('npm:')) return reference.slice(4) || undefined;
  if (reference.startsWith('patch:')) {
    const m = /::(?:.*&)?version=([^&]+)/.exec(reference);
    try {
      return m?.[1] ? decodeURIComponent(m[1]) : undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}
