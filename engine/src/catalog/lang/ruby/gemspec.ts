import { uniq } from '../common.js';

/** What an installed gem's specification says, read without running Ruby. */
export interface Gemspec {
  name?: string;
  version?: string;
  licenses: string[];
  dependsOn: string[];
}

/** One Ruby string literal: "…", '…', %q{…}, %q<…>, %q(…), %q[…] (optionally with `.freeze`). */
const STRING = String.raw`(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|%q\{([^}]*)\}|%q<([^>]*)>|%q\(([^)]*)\)|%q\[([^\]]*)\])`;

function literal(m: RegExpExecArray | RegExpMatchArray, from = 1): string | undefined {
  for (let i = from; i < from + 6; i++) if (m[i] !== undefined) return m[i];
  return undefined;
}

function strings(text: string): string[] {
  return [...text.matchAll(new RegExp(STRING, 'g'))].map((m) => literal(m) ?? '');
}

/**
 * Reads the `Gem::Specification.new do |s| … end` form RubyGems writes into `specifications/*.gemspec`, by
 * pattern: assignments of literals only, which is all RubyGems itself writes there.
 */
export function parseGemspec(text: string): Gemspec {
  const v = /Gem::Specification\.new\s+do\s+\|\s*(\w+)\s*\|/.exec(text)?.[1] ?? 's';
  const assign = (field: string, value: string) => new RegExp(String.raw`^\s*${v}\.${field}\s*=\s*${value}`, 'm');
  const spec: Gemspec = { licenses: [], dependsOn: [] };

  const name = assign('name', STRING).exec(text);
  const version = assign('version', String.raw`(?:Gem::Version\.new\(\s*)?${STRING}`).exec(text);
  const stub = /^# stub: (\S+) (\S+)/m.exec(text);
  spec.name = (name && literal(name)) ?? stub?.[1];
  spec.version = (version && literal(version)) ?? stub?.[2];

  const many = assign('licenses', String.raw`\[([^\]]*)\]`).exec(text);
  const one = assign('license', STRING).exec(text);
  spec.licenses = uniq([...(many?.[1] ? strings(many[1]) : []), ...(one ? [literal(one)] : [])]);

  // RubyGems writes each dependency twice (runtime and fallback branches); the runtime form wins when present.
  const depRe = (method: string) => new RegExp(String.raw`${v}\.${method}\(\s*${STRING}`, 'g');
  const runtime = [...text.matchAll(depRe('add_runtime_dependency'))].map((m) => literal(m));
  const plain = [...text.matchAll(depRe('add_dependency'))].map((m) => literal(m));
  spec.dependsOn = uniq(runtime.length ? runtime : plain);
  return spec;
}
