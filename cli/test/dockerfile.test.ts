import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT } from '../../engine/test/helpers/cli.js';

// No container daemon (nor a daemonless builder) runs where the tests do, so the repository's Dockerfile is checked
// for its structure: what a reviewer would check by eye, held by a test so it stays true.

interface Instruction {
  line: number;
  keyword: string;
  args: string;
}

/** Dockerfile instructions, continuation lines joined and comments dropped (enough for this file's syntax). */
function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  let pending = '';
  let start = 0;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!pending && (line === '' || line.startsWith('#'))) return;
    if (pending && line.startsWith('#')) return;
    if (!pending) start = i + 1;
    pending += pending ? ` ${line}` : line;
    if (pending.endsWith('\\')) {
      pending = pending.slice(0, -1).trimEnd();
      return;
    }
    const m = /^(\S+)\s*(.*)$/.exec(pending)!;
    out.push({ line: start, keyword: m[1]!.toUpperCase(), args: m[2]! });
    pending = '';
  });
  return out;
}

/** The instructions of each stage (from its FROM to the next). */
function stages(instructions: Instruction[]): Instruction[][] {
  const out: Instruction[][] = [];
  for (const ins of instructions) {
    if (ins.keyword === 'FROM') out.push([]);
    out.at(-1)?.push(ins);
  }
  return out;
}

/** `COPY [--flags] SRC... DEST` → its flags and sources. */
function copyParts(args: string): { flags: string[]; sources: string[] } {
  const words = args.split(/\s+/);
  const flags = words.filter((w) => w.startsWith('--'));
  const rest = words.filter((w) => !w.startsWith('--'));
  return { flags, sources: rest.slice(0, -1) };
}

/** `.dockerignore` patterns as simple prefixes and `**` globs (the subset the file uses). */
function ignoredBy(patterns: string[], path: string): boolean {
  const clean = path.replace(/^\.\//, '').replace(/\/$/, '');
  return patterns.some((p) => {
    const re = new RegExp(
      `^${p
        .replace(/[.+^${}()|[\]]/g, '\\$&')
        .replace(/\*\*\//g, '(?:.*/)?')
        .replace(/\*/g, '[^/]*')}(?:/.*)?$`,
    );
    return re.test(clean);
  });
}

const DOCKERFILE = readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8');
const INSTRUCTIONS = parseDockerfile(DOCKERFILE);
const STAGES = stages(INSTRUCTIONS);
const IGNORE = readFileSync(join(REPO_ROOT, '.dockerignore'), 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));

describe('the Dockerfile (checked structurally: no image is built here)', () => {
  it('pins every base image by digest or by an exact release tag', () => {
    const stageNames = new Set(STAGES.map((s) => /\bAS\s+(\S+)/i.exec(s[0]!.args)?.[1]).filter(Boolean));
    const froms = INSTRUCTIONS.filter((i) => i.keyword === 'FROM');
    assert.ok(froms.length >= 2, 'multi-stage: a build stage and a runtime stage');
    for (const from of froms) {
      const image = from.args.split(/\s+/).find((w) => !w.startsWith('--'))!;
      if (stageNames.has(image)) continue;
      const pinned = /@sha256:[0-9a-f]{64}$/.test(image) || /:\d+\.\d+\.\d+(-[a-z0-9.-]+)?$/.test(image);
      assert.ok(pinned, `line ${from.line}: ${image} is pinned neither by digest nor by an exact version tag`);
    }
  });

  it('builds with npm ci, installs the packed CLI with production dependencies only', () => {
    const runs = INSTRUCTIONS.filter((i) => i.keyword === 'RUN').map((i) => i.args);
    assert.ok(runs.some((r) => /\bnpm ci\b/.test(r)));
    assert.ok(runs.some((r) => /\bnpm run build\b/.test(r) && /\bnpm pack\b/.test(r)));
    assert.ok(runs.some((r) => /\bnpm install --omit=dev\b.*\.tgz/.test(r)));
  });

  it('runs as a non-root user with lading as its entry point, and holds no compilers', () => {
    const last = STAGES.at(-1)!;
    const user = last.filter((i) => i.keyword === 'USER').at(-1);
    assert.ok(user, 'the runtime stage sets USER');
    assert.doesNotMatch(user.args.trim(), /^(root|0)(:|$)/);
    const entrypoint = last.find((i) => i.keyword === 'ENTRYPOINT');
    assert.ok(entrypoint, 'the runtime stage has an ENTRYPOINT');
    assert.deepEqual(JSON.parse(entrypoint.args), ['lading'], 'exec form, so signals reach Node');
    assert.ok(
      last.every((i) => i.keyword !== 'RUN'),
      'the runtime stage only copies the installed CLI: no package manager runs there',
    );
    const path = last.find((i) => i.keyword === 'ENV' && /PATH=\/opt\/lading\/node_modules\/\.bin:/.test(i.args));
    assert.ok(path, 'the installed bin folder is on PATH, so ENTRYPOINT ["lading"] resolves');
  });

  it('fetches nothing with ADD, and copies only sources that exist and the build context keeps', () => {
    assert.equal(INSTRUCTIONS.filter((i) => i.keyword === 'ADD').length, 0, 'COPY, never ADD (no URLs, no unpacking)');
    for (const copy of INSTRUCTIONS.filter((i) => i.keyword === 'COPY')) {
      const { flags, sources } = copyParts(copy.args);
      if (flags.some((f) => f.startsWith('--from='))) continue;
      assert.ok(sources.length > 0, `line ${copy.line}: COPY without a source`);
      for (const source of sources) {
        assert.ok(existsSync(join(REPO_ROOT, source)), `line ${copy.line}: ${source} does not exist`);
        assert.ok(!ignoredBy(IGNORE, source), `line ${copy.line}: ${source} is excluded by .dockerignore`);
      }
    }
    // The build needs these; a .dockerignore that dropped them would break the image, not this test's COPY check.
    for (const needed of ['engine/src/index.ts', 'cli/src/bin.ts', 'cli/scripts/bundle.mjs', 'cli/bin/launch.mjs']) {
      assert.ok(!ignoredBy(IGNORE, needed), `${needed} is excluded by .dockerignore`);
    }
    assert.ok(ignoredBy(IGNORE, 'node_modules/x') && ignoredBy(IGNORE, 'engine/dist/index.js'));
  });

  it('is documented, as checked structurally only', () => {
    const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
    const section = /## Run from a container image\n([\s\S]*?)(\n## |$)/.exec(readme)?.[1];
    assert.ok(section, 'README has a "Run from a container image" section');
    assert.match(section, /docker build/);
    assert.match(section, /structur/);
  });
});
