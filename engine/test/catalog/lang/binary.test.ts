import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, stat, symlink, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { deflateSync } from 'node:zlib';
import fc from 'fast-check';
import { DEFAULT_LIMITS } from '../../../src/catalog/cataloger.js';
import { binaryCataloger } from '../../../src/catalog/lang/binary/cataloger.js';
import { bytesOf } from '../../../src/catalog/lang/binary/elf.js';
import { selectorFor } from '../../../src/catalog/selector.js';
import type { RandomAccessFile, WantedFile, WantedFiles } from '../../../src/image/file.js';
import { openTarget } from '../../../src/image/open.js';
import { openLocalFileAt } from '../../../src/image/walk/local-file-at.js';
import { walkDir } from '../../../src/image/walk/walk-dir.js';
import { buildImage } from '../../helpers/images.js';
import { REPO_ROOT } from '../../helpers/paths.js';
import { tempDir } from '../../helpers/tmp.js';
import { wantedFromDir } from '../../helpers/wanted-files.js';
import { buildElf } from './elf-builder.js';
import { buildMachO } from './macho-builder.js';
import { buildPe } from './pe-builder.js';

const LEFTHOOK = join(REPO_ROOT, 'node_modules/lefthook-linux-x64/bin/lefthook');
const env = { limits: DEFAULT_LIMITS };
const hasGo = spawnSync('go', ['version']).status === 0;

/** An executable the walk kept, condensed as the walk would. */
function executable(path: string, raw: Buffer): WantedFiles {
  const kept = binaryCataloger.condense?.(path, raw) ?? null;
  const map = new Map<string, WantedFile>();
  if (kept) {
    map.set(path, {
      path,
      layer: 'sha256:abc',
      meta: { size: raw.length, mode: 0o755, type: 'file' },
      content: kept,
      condensedBy: 'binary',
    });
  }
  return map;
}

/** `go version -m` as the oracle: name@version of mod/dep lines, replacements applied the way we document. */
function oracle(binary: string): { toolchain: string; modules: string[] } {
  const out = execFileSync('go', ['version', '-m', binary], { encoding: 'utf8' });
  const lines = out.split('\n');
  const toolchain = (lines[0] ?? '').split(': ')[1]?.trim() ?? '';
  const modules: string[] = [];
  for (const line of lines.slice(1)) {
    const f = line.trim().split('\t');
    if (f[0] === 'mod' || f[0] === 'dep') modules.push(`${f[1]}@${f[2] || '(devel)'}`);
    if (f[0] === '=>')
      modules[modules.length - 1] =
        f[2] && f[2] !== '(devel)' ? `${f[1]}@${f[2]}` : `${modules.at(-1)?.split('@')[0]}@(devel)`;
  }
  return { toolchain, modules };
}

/**
 * Go's pre-1.18 build info: a 32-byte header (in `.go.buildinfo`) pointing at two string headers, each pointing at
 * its bytes, all in `strings` placed at virtual address `stringsAddr`.
 */
function preGo118Parts(version: Buffer, mod: Buffer, stringsAddr: number): { info: Buffer; strings: Buffer } {
  const strings = Buffer.alloc(32 + version.length + mod.length);
  strings.writeBigUInt64LE(BigInt(stringsAddr + 32), 0);
  strings.writeBigUInt64LE(BigInt(version.length), 8);
  strings.writeBigUInt64LE(BigInt(stringsAddr + 32 + version.length), 16);
  strings.writeBigUInt64LE(BigInt(mod.length), 24);
  version.copy(strings, 32);
  mod.copy(strings, 32 + version.length);
  const info = Buffer.alloc(32);
  info.write('\xff Go buildinf:', 0, 'latin1');
  info[14] = 8;
  info[15] = 0;
  info.writeBigUInt64LE(BigInt(stringsAddr), 16);
  info.writeBigUInt64LE(BigInt(stringsAddr + 16), 24);
  return { info, strings };
}

/** An ELF in that layout, `.rodata` holding the strings. */
function preGo118Elf(version: Buffer, mod: Buffer): Buffer {
  const make = (addr: number) => {
    const { info, strings } = preGo118Parts(version, mod, addr);
    return buildElf([
      { name: '.go.buildinfo', data: info },
      { name: '.rodata', data: strings },
    ]);
  };
  return make(make(0).addrOf('.rodata')).elf;
}

describe('go binaries', () => {
  it('lists every module of a real Go binary as go version -m does (lefthook)', async (t) => {
    if (!hasGo) return t.skip('go is not installed: the oracle `go version -m` is unavailable');
    const raw = await readFile(LEFTHOOK);
    const files = executable('/usr/local/bin/lefthook', raw);
    const condensed = files.get('/usr/local/bin/lefthook');
    assert.ok(condensed && condensed.content.length < 16 * 1024, 'condense keeps only the build info');
    const { packages, warnings } = await binaryCataloger.catalog(files, env);
    assert.deepEqual(warnings, []);
    const { toolchain, modules } = oracle(LEFTHOOK);
    const got = packages.filter((p) => p.name !== 'stdlib').map((p) => `${p.name}@${p.version}`);
    assert.deepEqual(got.sort(), modules.sort());
    assert.ok(modules.length > 40);
    const std = packages.find((p) => p.name === 'stdlib');
    assert.equal(std?.version, toolchain.replace(/^go/, ''));
    assert.equal(std?.purl, `pkg:golang/stdlib@${toolchain.replace(/^go/, '')}`);
    const main = packages.find((p) => p.metadata?.['go.mainModule'] === 'true');
    assert.equal(main?.name, 'github.com/evilmartians/lefthook/v2');
    assert.equal(main?.purl, `pkg:golang/github.com/evilmartians/lefthook/v2@${main?.version}`);
    for (const p of packages) {
      assert.equal(p.type, 'golang');
      assert.equal(p.foundBy, 'go-binary');
      assert.deepEqual(p.locations, [{ path: '/usr/local/bin/lefthook', layer: 'sha256:abc' }]);
    }
  });

  it('agrees with go version -m on the Go binaries installed on this machine', async (t) => {
    if (!hasGo) return t.skip('go is not installed');
    // CI installs skopeo, umoci and docker-registry (Debian builds: GOPATH mode, so stdlib only).
    const candidates = ['/usr/bin/skopeo', '/usr/bin/umoci', '/usr/bin/docker-registry', '/usr/bin/anthoscli'];
    let checked = 0;
    for (const path of candidates) {
      const raw = await readFile(path).catch(() => undefined);
      if (!raw) continue;
      checked++;
      const { packages, warnings } = await binaryCataloger.catalog(executable(path, raw), env);
      assert.deepEqual(warnings, [], path);
      const { toolchain, modules } = oracle(path);
      assert.deepEqual(
        packages.map((p) => `${p.name}@${p.version}`).sort(),
        modules.concat(`stdlib@${toolchain.replace(/^go/, '')}`).sort(),
        path,
      );
    }
    assert.ok(checked > 0, 'none of the Go binaries CI installs is present');
  });

  it('builds a Go program and reports main module (devel), a local replacement and stdlib', async (t) => {
    if (!hasGo) return t.skip('go is not installed');
    const dir = await tempDir(t);
    const root = join(dir, 'root');
    await mkdir(join(dir, 'src/lib'), { recursive: true });
    await mkdir(join(root, 'app'), { recursive: true });
    await writeFile(
      join(dir, 'src/go.mod'),
      'module example.com/hello\n\ngo 1.19\n\nrequire example.com/lib v1.4.0\n\nreplace example.com/lib => ./lib\n',
    );
    await writeFile(join(dir, 'src/lib/go.mod'), 'module example.com/lib\n\ngo 1.19\n');
    await writeFile(join(dir, 'src/lib/lib.go'), 'package lib\n\nfunc Hello() string { return "hi" }\n');
    await writeFile(
      join(dir, 'src/main.go'),
      'package main\n\nimport (\n\t"fmt"\n\t"example.com/lib"\n)\n\nfunc main() { fmt.Println(lib.Hello()) }\n',
    );
    execFileSync('go', ['build', '-buildvcs=false', '-o', join(root, 'app/hello'), '.'], {
      cwd: join(dir, 'src'),
      env: {
        ...process.env,
        GOFLAGS: '-mod=mod',
        GOPROXY: 'off',
        GOTOOLCHAIN: 'local',
        GOCACHE: join(dir, 'cache'),
        GOPATH: join(dir, 'gopath'),
        CGO_ENABLED: '0',
      },
    });
    const files = await wantedFromDir(root, binaryCataloger);
    const { packages, warnings } = await binaryCataloger.catalog(files, env);
    assert.deepEqual(warnings, []);
    const goVersion = execFileSync('go', ['env', 'GOVERSION'], { encoding: 'utf8' }).trim().replace(/^go/, '');
    const byName = new Map(packages.map((p) => [p.name, p]));
    assert.equal(byName.get('stdlib')?.version, goVersion);
    assert.equal(byName.get('example.com/hello')?.version, '(devel)');
    assert.equal(byName.get('example.com/hello')?.purl, 'pkg:golang/example.com/hello');
    const lib = byName.get('example.com/lib');
    assert.equal(lib?.version, '(devel)');
    assert.equal(lib?.metadata?.['go.replaces'], 'example.com/lib@v1.4.0');
    assert.equal(lib?.metadata?.['go.replacedBy'], './lib');
    assert.deepEqual(
      packages.map((p) => `${p.name}@${p.version}`).sort(),
      oracle(join(root, 'app/hello')).modules.concat(`stdlib@${goVersion}`).sort(),
    );
  });

  it('resolves the pre-1.18 pointer format through the ELF segments', async () => {
    const mod = Buffer.concat([
      Buffer.from('0w\xaf\x0c\x92t\x08\x02A\xe1\xc1\x07\xe6\xd6\x18\xe6', 'latin1'),
      Buffer.from(
        'path\texample.com/old\nmod\texample.com/old\tv1.0.0\t\ndep\tgithub.com/pkg/errors\tv0.9.1\th1:FEBLx1zS214owpjy7qsBeixbURkuhQAwrK5UwLGTwt4=\n' +
          'dep\tgolang.org/x/sys\tv0.0.0-20200323222414-85ca7c5b95cd\t\n=>\tgolang.org/x/sys\tv0.1.0\th1:x\n',
      ),
      Buffer.from('\xf92C1\x86\x18 r\x00\x82B\x10A\x16\xd8\xf2', 'latin1'),
    ]);
    const elf = preGo118Elf(Buffer.from('go1.16.15'), mod);
    const { packages, warnings } = await binaryCataloger.catalog(executable('/bin/old', elf), env);
    assert.deepEqual(warnings, []);
    assert.deepEqual(packages.map((p) => `${p.name}@${p.version}`).sort(), [
      'example.com/old@v1.0.0',
      'github.com/pkg/errors@v0.9.1',
      'golang.org/x/sys@v0.1.0',
      'stdlib@1.16.15',
    ]);
    const sys = packages.find((p) => p.name === 'golang.org/x/sys');
    assert.equal(sys?.metadata?.['go.replaces'], 'golang.org/x/sys@v0.0.0-20200323222414-85ca7c5b95cd');
  });

  it('skips scripts and stripped binaries quietly; warns on forged build info', async () => {
    assert.equal(binaryCataloger.condense?.('/bin/sh-script', Buffer.from('#!/bin/sh\necho hi\n')), null);
    assert.equal(binaryCataloger.condense?.('/bin/c', buildElf([{ name: '.text', data: Buffer.alloc(64) }]).elf), null);
    const forged = Buffer.alloc(64);
    forged.write('\xff Go buildinf:', 0, 'latin1');
    forged[14] = 8;
    forged[15] = 2;
    forged[32] = 0xff; // varint that never ends within the file
    forged.fill(0xff, 33);
    const { elf } = buildElf([{ name: '.go.buildinfo', data: forged }]);
    const { packages, warnings } = await binaryCataloger.catalog(executable('/bin/forged', elf), env);
    assert.deepEqual(packages, []);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]?.message ?? '', /Go build info/);
  });

  it('never throws on truncated or corrupted real binaries (fast-check)', async () => {
    const raw = await readFile(LEFTHOOK);
    const section = raw.indexOf(Buffer.from('\xff Go buildinf:', 'latin1'));
    assert.ok(section > 0);
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: raw.length }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 4096 }), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
        async (cut, flips) => {
          // Corrupt the ELF header and the build info header, then truncate anywhere.
          const copy = Buffer.from(raw.subarray(0, Math.max(cut, 0)));
          for (const [at, value] of flips) {
            const target = at < 2048 ? at : section + (at % 64);
            if (target < copy.length) copy[target] = value;
          }
          const { warnings } = await binaryCataloger.catalog(executable('/bin/x', copy), env);
          for (const w of warnings) assert.ok(!w.message.includes('\n'));
        },
      ),
      { numRuns: 40 },
    );
  });
});

/** A buffer read through the offset interface, counting what the cataloger asked for. */
function counted(raw: Buffer): { file: RandomAccessFile; bytesRead: () => number; wholeReads: () => number } {
  let bytes = 0;
  let wholes = 0;
  const inner = bytesOf(raw);
  return {
    file: {
      length: raw.length,
      at: (offset, length) => {
        const got = inner.at(offset, length);
        bytes += got?.length ?? 0;
        return got;
      },
      whole: () => {
        wholes++;
        bytes += raw.length;
        return raw;
      },
    },
    bytesRead: () => bytes,
    wholeReads: () => wholes,
  };
}

/**
 * Bytes this process has read through read(2) and friends (Linux /proc/self/io `rchar`), after checking that the
 * counter moves here: the tests that use it assert how little a walk reads.
 */
async function readBytesCounter(): Promise<() => Promise<number>> {
  const read = async () => Number(/rchar: (\d+)/.exec(await readFile('/proc/self/io', 'utf8'))?.[1]);
  const before = await read();
  const probe = await readFile(LEFTHOOK);
  assert.ok((await read()) - before >= probe.length, '/proc/self/io rchar does not count reads on this system');
  return read;
}

const PROC_IO = existsSync('/proc/self/io') ? false : 'needs /proc/self/io (Linux) to count the bytes a walk reads';

describe('binaries condensed from reads at offsets (local files)', () => {
  it('reads a real Go binary through its headers and build-info section only, with the same result', async () => {
    const raw = await readFile(LEFTHOOK);
    const probe = counted(raw);
    const viaOffsets = binaryCataloger.condenseAt?.('/usr/local/bin/lefthook', probe.file);
    assert.ok(viaOffsets);
    assert.deepEqual(viaOffsets, binaryCataloger.condense?.('/usr/local/bin/lefthook', raw));
    assert.equal(probe.wholeReads(), 0);
    assert.ok(probe.bytesRead() < 64 * 1024, `read ${probe.bytesRead()} of ${raw.length} bytes`);
  });

  it('follows pre-1.18 pointers with reads at offsets; a C program reads only its tables', () => {
    const elf = preGo118Elf(
      Buffer.from('go1.16.15'),
      Buffer.from('path\texample.com/old\nmod\texample.com/old\tv1.0.0\t\n'),
    );
    const probe = counted(elf);
    const kept = binaryCataloger.condenseAt?.('/bin/old', probe.file);
    assert.deepEqual(kept, binaryCataloger.condense?.('/bin/old', elf));
    assert.match(kept?.toString() ?? '', /go1\.16\.15/);
    assert.equal(probe.wholeReads(), 0);

    const c = counted(buildElf([{ name: '.text', data: Buffer.alloc(64 * 1024) }]).elf);
    assert.equal(binaryCataloger.condenseAt?.('/bin/c', c.file), null);
    assert.ok(c.bytesRead() < 4096, `read ${c.bytesRead()} bytes of a C program`);
  });

  it('reads at offsets from a file on disk what it reads from the same bytes in memory, on truncated and corrupted real binaries (fast-check)', async (t) => {
    const raw = await readFile(LEFTHOOK);
    const section = raw.indexOf(Buffer.from('\xff Go buildinf:', 'latin1'));
    const file = join(await tempDir(t), 'x');
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: raw.length }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 8192 }), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
        async (cut, flips) => {
          const copy = Buffer.from(raw.subarray(0, cut));
          for (const [at, value] of flips) {
            const target = at < 4096 ? at : section + (at % 64);
            if (target < copy.length) copy[target] = value;
          }
          await writeFile(file, copy);
          const opened = await openLocalFileAt(file, await stat(file), copy.length);
          try {
            assert.deepEqual(
              binaryCataloger.condenseAt?.('/bin/x', opened.file),
              binaryCataloger.condense?.('/bin/x', copy),
            );
          } finally {
            await opened.close();
          }
        },
      ),
      { numRuns: 30 },
    );
  });

  it('a dir: walk condenses executables that way: a 256 MiB binary costs kilobytes of reads', {
    skip: PROC_IO,
  }, async (t) => {
    const root = await tempDir(t);
    const raw = await readFile(LEFTHOOK);
    await mkdir(join(root, 'usr/local/bin'), { recursive: true });
    const big = join(root, 'usr/local/bin/lefthook');
    await writeFile(big, raw, { mode: 0o755 });
    // Sparse padding after the real binary: reading it whole would cost 256 MiB of read(2), the offsets do not.
    await truncate(big, 256 * 1024 * 1024);
    // A link to it is not a second binary (the cataloger wants regular files only), so it costs no read either.
    await mkdir(join(root, 'usr/bin'), { recursive: true });
    await symlink('../local/bin/lefthook', join(root, 'usr/bin/hook'));
    const readBytes = await readBytesCounter();
    const before = await readBytes();
    const walked = await walkDir(root, selectorFor([binaryCataloger]), { maxFileBytes: 1024 });
    const read = (await readBytes()) - before;
    assert.ok(read < 16 * 1024 * 1024, `the walk read ${read} bytes`);
    const kept = walked.files.get('/usr/local/bin/lefthook');
    assert.equal(kept?.condensedBy, 'binary');
    assert.deepEqual(kept?.content, binaryCataloger.condense?.('/usr/local/bin/lefthook', raw));
    assert.equal(walked.files.has('/usr/bin/hook'), false);
  });
});

describe('binaries in uncompressed image layers', () => {
  it('a docker-archive walk condenses executables from reads at offsets and seeks over the rest', {
    skip: PROC_IO,
  }, async (t) => {
    const dir = await tempDir(t);
    const raw = await readFile(LEFTHOOK);
    const built = await buildImage(dir, {
      layers: [[{ type: 'file', path: '/usr/local/bin/lefthook', content: raw, mode: 0o755 }]],
    });
    const opened = await openTarget(`docker-archive:${built.dockerArchive}`);
    const readBytes = await readBytesCounter();
    try {
      const before = await readBytes();
      // The walk's own reads: the layer's whole-file hash (on by default, on a worker thread) is left out here.
      const walked = await opened.walk(selectorFor([binaryCataloger]), { maxFileBytes: 1024, hashInPlace: false });
      const read = (await readBytes()) - before;
      assert.ok(read < raw.length / 4, `the walk read ${read} bytes for a ${raw.length}-byte binary`);
      const kept = walked.files.get('/usr/local/bin/lefthook');
      assert.equal(kept?.condensedBy, 'binary');
      assert.deepEqual(kept?.content, binaryCataloger.condense?.('/usr/local/bin/lefthook', raw));
    } finally {
      await opened.close();
    }
  });
});

describe('rust cargo-auditable binaries', () => {
  const depV0 = {
    packages: [
      { name: 'ripgrep', version: '14.1.0', source: 'crates.io', root: true, dependencies: [1, 2, 3] },
      { name: 'memchr', version: '2.7.1', source: 'crates.io' },
      { name: 'regex', version: '1.10.3', source: 'crates.io', dependencies: [1] },
      { name: 'cc', version: '1.0.83', source: 'crates.io', kind: 'build' },
    ],
  };

  it('reads the .dep-v0 section: runtime crates, dependency names, build crates skipped', async () => {
    const { elf } = buildElf([
      { name: '.text', data: Buffer.alloc(32) },
      { name: '.dep-v0', data: deflateSync(Buffer.from(JSON.stringify(depV0))) },
    ]);
    const { packages, warnings } = await binaryCataloger.catalog(executable('/usr/bin/rg', elf), env);
    assert.deepEqual(warnings, []);
    assert.deepEqual(
      packages.map((p) => [p.purl, p.foundBy]),
      [
        ['pkg:cargo/ripgrep@14.1.0', 'rust-audit-binary'],
        ['pkg:cargo/memchr@2.7.1', 'rust-audit-binary'],
        ['pkg:cargo/regex@1.10.3', 'rust-audit-binary'],
      ],
    );
    assert.deepEqual(packages[0]?.dependsOn, ['memchr', 'regex', 'cc']);
    assert.equal(packages[0]?.metadata?.['rust.root'], 'true');
  });

  it('reads .dep-v0 from a PE (Windows) binary too, and ignores a PE with a broken section table', async () => {
    const { pe } = buildPe([
      { name: '.text', data: Buffer.alloc(64, 0xcc) },
      { name: '.dep-v0', data: deflateSync(Buffer.from(JSON.stringify(depV0))) },
    ]);
    const { packages, warnings } = await binaryCataloger.catalog(executable('/app/rg.exe', pe), env);
    assert.deepEqual(warnings, []);
    assert.deepEqual(
      packages.map((p) => p.purl),
      ['pkg:cargo/ripgrep@14.1.0', 'pkg:cargo/memchr@2.7.1', 'pkg:cargo/regex@1.10.3'],
    );
    const broken = Buffer.from(pe);
    broken.writeUInt16LE(60000, 0x40 + 6);
    const none = await binaryCataloger.catalog(executable('/app/rg.exe', broken), env);
    assert.deepEqual(none, { packages: [], warnings: [] });
    for (let cut = 0; cut < pe.length; cut += 37) {
      const result = await binaryCataloger.catalog(executable('/app/rg.exe', pe.subarray(0, cut)), env);
      for (const w of result.warnings) assert.match(w.message, /dep-v0|zlib|unexpected end|incorrect header/i);
    }
  });

  it('reads .dep-v0 from a Mach-O binary and survives its truncation', async () => {
    const { macho } = buildMachO([
      { name: '__data', data: Buffer.alloc(40, 1) },
      { name: '.dep-v0', data: deflateSync(Buffer.from(JSON.stringify(depV0))) },
    ]);
    const { packages, warnings } = await binaryCataloger.catalog(executable('/usr/local/bin/rg', macho), env);
    assert.deepEqual(warnings, []);
    assert.deepEqual(
      packages.map((p) => p.purl),
      ['pkg:cargo/ripgrep@14.1.0', 'pkg:cargo/memchr@2.7.1', 'pkg:cargo/regex@1.10.3'],
    );
    for (let cut = 0; cut < macho.length; cut += 23) {
      const result = await binaryCataloger.catalog(executable('/usr/local/bin/rg', macho.subarray(0, cut)), env);
      assert.deepEqual(result.packages, []);
    }
  });

  it('warns on a corrupt .dep-v0 section and on an inflate bomb', async () => {
    const bad = buildElf([{ name: '.dep-v0', data: Buffer.from('not zlib') }]).elf;
    const bomb = buildElf([{ name: '.dep-v0', data: deflateSync(Buffer.alloc(64 * 1024 * 1024, 0x20)) }]).elf;
    for (const elf of [bad, bomb]) {
      const { packages, warnings } = await binaryCataloger.catalog(executable('/usr/bin/x', elf), env);
      assert.deepEqual(packages, []);
      assert.equal(warnings.length, 1);
      assert.match(warnings[0]?.message ?? '', /dep-v0/);
    }
  });
});

describe('go build info outside ELF', () => {
  it('resolves the pre-1.18 pointer format in a PE file through its sections and image base', async () => {
    const version = Buffer.from('go1.15.15');
    const sentinel = Buffer.alloc(16, 0x30);
    const mod = Buffer.concat([
      sentinel,
      Buffer.from('path\texample.com/win\nmod\texample.com/win\tv1.2.0\t\ndep\tgolang.org/x/text\tv0.3.7\th1:x\n'),
      sentinel,
    ]);
    const make = (stringsVa: number) => {
      const { info, strings } = preGo118Parts(version, mod, stringsVa);
      return buildPe(
        [
          { name: '.text', data: Buffer.alloc(100, 0xcc) },
          { name: '.rdata', data: strings },
          { name: '.data', data: info },
        ],
        { imageBase: 0x140000000n },
      );
    };
    const { pe } = make(make(0).vaOf('.rdata'));
    const { packages, warnings } = await binaryCataloger.catalog(executable('/app/old.exe', pe), env);
    assert.deepEqual(warnings, []);
    assert.deepEqual(packages.map((p) => `${p.name}@${p.version}`).sort(), [
      'example.com/win@v1.2.0',
      'golang.org/x/text@v0.3.7',
      'stdlib@1.15.15',
    ]);
    // Pointers off by the image base land outside every section: a warning, not a guess.
    const { pe: wrong } = make(0x2000);
    const bad = await binaryCataloger.catalog(executable('/app/old.exe', wrong), env);
    assert.deepEqual(bad.packages, []);
    assert.match(bad.warnings[0]?.message ?? '', /points outside the file/);
  });

  it('resolves the pre-1.18 pointer format in a Mach-O file through its segments', async () => {
    const version = Buffer.from('go1.14.15');
    const sentinel = Buffer.alloc(16, 0x30);
    const mod = Buffer.concat([
      sentinel,
      Buffer.from('path\texample.com/mac\nmod\texample.com/mac\tv0.4.0\t\n'),
      sentinel,
    ]);
    const make = (stringsVa: number) => {
      const { info, strings } = preGo118Parts(version, mod, stringsVa);
      // The header's file offset must be 16-aligned, as the linker aligns the section.
      return buildMachO([
        { name: '__noptrdata', data: strings },
        { name: '__pad', data: Buffer.alloc(16 - ((32 + 72 + 3 * 80 + strings.length) % 16)) },
        { name: '__go_buildinfo', data: info },
      ]);
    };
    const { macho } = make(make(0).vaOf('__noptrdata'));
    const { packages, warnings } = await binaryCataloger.catalog(executable('/usr/local/bin/old', macho), env);
    assert.deepEqual(warnings, []);
    assert.deepEqual(packages.map((p) => `${p.name}@${p.version}`).sort(), [
      'example.com/mac@v0.4.0',
      'stdlib@1.14.15',
    ]);
  });

  it('finds the inline format in a Mach-O file by its magic', async () => {
    const mod = Buffer.concat([
      Buffer.alloc(16, 0x30),
      Buffer.from(
        'path\tgithub.com/acme/tool\nmod\tgithub.com/acme/tool\tv0.4.0\t\ndep\tgolang.org/x/text\tv0.14.0\th1:x\n',
      ),
      Buffer.alloc(16, 0x31),
    ]);
    mod[mod.length - 17] = 0x0a;
    const version = Buffer.from('go1.21.3');
    const info = Buffer.alloc(32);
    info.write('\xff Go buildinf:', 0, 'latin1');
    info[14] = 8;
    info[15] = 2;
    const body = Buffer.concat([info, Buffer.from([version.length]), version, Buffer.from([mod.length]), mod]);
    const macho = Buffer.concat([Buffer.from([0xcf, 0xfa, 0xed, 0xfe]), Buffer.alloc(252), body]);
    const { packages, warnings } = await binaryCataloger.catalog(executable('/usr/local/bin/tool', macho), env);
    assert.deepEqual(warnings, []);
    assert.deepEqual(packages.map((p) => p.purl).sort(), [
      'pkg:golang/github.com/acme/tool@v0.4.0',
      'pkg:golang/golang.org/x/text@v0.14.0',
      'pkg:golang/stdlib@1.21.3',
    ]);
  });
});
