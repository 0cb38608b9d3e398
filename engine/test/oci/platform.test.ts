// The one platform rule (oci/platform.ts), as a table: what an index offers × what is asked → what is chosen.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isLadingError } from '../../src/errors/lading-error.js';
import {
  checkImagePlatform,
  choosePlatform,
  compatiblePlatforms,
  formatPlatform,
  normalizePlatform,
  type Platform,
} from '../../src/oci/index.js';

interface Entry {
  name: string;
  platform?: Platform;
}

/** `os/arch[/variant]` → an index entry named after it. */
function entry(spec: string, extra: Partial<Platform> = {}): Entry {
  const [os = '', architecture = '', variant] = spec.split('/');
  return { name: spec, platform: { os, architecture, ...(variant ? { variant } : {}), ...extra } };
}

/** Worst first, so that index order alone never explains a choice. */
const EVERY_ARM = ['linux/arm/v5', 'linux/arm/v6', 'linux/arm/v7', 'linux/arm64', 'linux/amd64'].map((s) => entry(s));
const OLD_ARM_ONLY = ['linux/arm/v5', 'linux/arm/v6'].map((s) => entry(s));
const NO_VARIANTS = ['linux/arm', 'linux/arm64/v8', 'linux/amd64'].map((s) => entry(s));
const ALIASES = ['linux/armhf', 'linux/aarch64', 'linux/x86_64', 'Linux/ARMEL'].map((s) => entry(s));

const TABLE: [index: Entry[], asked: string | undefined, chosen: string][] = [
  // No variant asked: arm means v7, arm64 means v8.
  [EVERY_ARM, 'linux/arm', 'linux/arm/v7'],
  [EVERY_ARM, 'linux/arm64', 'linux/arm64'],
  [EVERY_ARM, undefined, 'linux/amd64'],
  // An exact variant first…
  [EVERY_ARM, 'linux/arm/v7', 'linux/arm/v7'],
  [EVERY_ARM, 'linux/arm/v6', 'linux/arm/v6'],
  [EVERY_ARM, 'linux/arm/v5', 'linux/arm/v5'],
  [EVERY_ARM, 'linux/arm64/v8', 'linux/arm64'],
  [EVERY_ARM, 'linux/arm/7', 'linux/arm/v7'],
  // …else the best lower variant the CPU runs: v8 > v7 > v6 > v5.
  [EVERY_ARM, 'linux/arm/v8', 'linux/arm/v7'],
  [OLD_ARM_ONLY, 'linux/arm', 'linux/arm/v6'],
  [OLD_ARM_ONLY, 'linux/arm/v7', 'linux/arm/v6'],
  [OLD_ARM_ONLY, 'linux/arm/v8', 'linux/arm/v6'],
  [OLD_ARM_ONLY, 'linux/arm/v6', 'linux/arm/v6'],
  [OLD_ARM_ONLY, 'linux/arm/v5', 'linux/arm/v5'],
  // Entries without a variant: arm is v7, arm64 is v8.
  [NO_VARIANTS, 'linux/arm', 'linux/arm'],
  [NO_VARIANTS, 'linux/arm/v7', 'linux/arm'],
  [NO_VARIANTS, 'linux/arm/v8', 'linux/arm'],
  [NO_VARIANTS, 'linux/arm64', 'linux/arm64/v8'],
  [NO_VARIANTS, 'linux/aarch64', 'linux/arm64/v8'],
  // Architecture aliases, in the index and in the request.
  [ALIASES, 'linux/arm', 'linux/armhf'],
  [ALIASES, 'linux/arm/v6', 'Linux/ARMEL'],
  [ALIASES, 'linux/arm64', 'linux/aarch64'],
  [ALIASES, 'linux/amd64', 'linux/x86_64'],
  [EVERY_ARM, 'linux/x86_64', 'linux/amd64'],
  // amd64 microarchitecture levels run the lower ones; arm64 minor versions likewise.
  [EVERY_ARM, 'linux/amd64/v3', 'linux/amd64'],
  [EVERY_ARM, 'linux/arm64/v8.2', 'linux/arm64'],
];

function names(entries: Entry[]): string {
  return entries.map((e) => e.name).join(', ');
}

describe('the platform rule', () => {
  for (const [index, asked, chosen] of TABLE) {
    it(`[${names(index)}] --platform ${asked ?? '(default)'} → ${chosen}`, () => {
      assert.equal(choosePlatform(index, asked, 'img').name, chosen);
    });
  }

  it('os.version and os.features play no part', () => {
    const index = [
      entry('linux/amd64', { 'os.version': '10.0.17763', 'os.features': ['win32k'] }),
      entry('linux/arm64'),
    ];
    assert.equal(choosePlatform(index, 'linux/amd64', 'img'), index[0]);
  });

  it('equally good entries keep index order', () => {
    const first = entry('linux/arm/v7');
    const second = entry('linux/arm');
    assert.equal(choosePlatform([first, second], 'linux/arm', 'img'), first);
    assert.equal(choosePlatform([second, first], 'linux/arm', 'img'), second);
  });

  it('a platform the index lacks is NOT_FOUND, listing what it offers (attestation entries left out)', () => {
    const index = [...EVERY_ARM, entry('unknown/unknown'), { name: 'no platform' }];
    for (const [asked, want] of [
      ['linux/s390x', 'linux/s390x'],
      ['windows/amd64', 'windows/amd64'],
      ['LINUX/PPC64LE', 'linux/ppc64le'],
    ] as const) {
      assert.throws(
        () => choosePlatform(index, asked, 'reg/app:1'),
        (err) => {
          assert.ok(isLadingError(err));
          assert.equal(err.code, 'NOT_FOUND');
          assert.equal(err.exitCode, 3);
          assert.equal(
            err.message,
            `reg/app:1 has no image for ${want} (available: linux/arm/v5, linux/arm/v6, linux/arm/v7, linux/arm64, linux/amd64)`,
          );
          return true;
        },
      );
    }
  });

  it('never falls back to another architecture or a higher variant', () => {
    const refused: [Entry[], string][] = [
      [OLD_ARM_ONLY, 'linux/arm64'],
      [[entry('linux/386')], 'linux/amd64'],
      [[entry('linux/arm/v7')], 'linux/arm/v6'],
      [NO_VARIANTS, 'linux/arm/v6'],
      [[entry('linux/arm64/v9')], 'linux/arm64'],
    ];
    for (const [index, asked] of refused) {
      assert.throws(() => choosePlatform(index, asked, 'img'), /has no image for/, `${asked} from ${names(index)}`);
    }
  });

  it('a malformed --platform is a usage error', () => {
    for (const bad of ['linux', 'linux/amd64/v1/x', 'linux//amd64', 'linux/am d64']) {
      assert.throws(
        () => choosePlatform(EVERY_ARM, bad, 'img'),
        (err) => isLadingError(err) && err.code === 'USAGE',
      );
    }
  });

  it("ranks as containerd's platforms.Only does, within one architecture", () => {
    const vector = (p: string) => compatiblePlatforms(normalizePlatform(entry(p).platform!)).map(formatPlatform);
    assert.deepEqual(vector('linux/arm/v8'), ['linux/arm/v8', 'linux/arm/v7', 'linux/arm/v6', 'linux/arm/v5']);
    assert.deepEqual(vector('linux/arm'), ['linux/arm/v7', 'linux/arm/v6', 'linux/arm/v5']);
    assert.deepEqual(vector('linux/arm64'), ['linux/arm64/v8']);
    assert.deepEqual(vector('linux/arm64/v8.2'), ['linux/arm64/v8.2', 'linux/arm64/v8.1', 'linux/arm64/v8']);
    assert.deepEqual(vector('linux/arm64/v9.1'), [
      'linux/arm64/v9.1',
      'linux/arm64/v9',
      'linux/arm64/v8.6',
      'linux/arm64/v8.5',
      'linux/arm64/v8.4',
      'linux/arm64/v8.3',
      'linux/arm64/v8.2',
      'linux/arm64/v8.1',
      'linux/arm64/v8',
    ]);
    assert.deepEqual(vector('linux/amd64/v3'), ['linux/amd64/v3', 'linux/amd64/v2', 'linux/amd64']);
    assert.deepEqual(vector('linux/amd64/v1'), ['linux/amd64']);
    assert.deepEqual(vector('macos/i386'), ['darwin/386']);
  });
});

describe('a single-platform image and --platform', () => {
  const CASES: [asked: string | undefined, has: string | undefined, ok: boolean][] = [
    [undefined, 'linux/arm64', true],
    ['linux/arm64', undefined, true],
    ['linux/amd64', 'linux/amd64', true],
    ['linux/arm64', 'linux/arm64/v8', true],
    ['linux/arm64/v8', 'linux/arm64', true],
    ['linux/arm', 'linux/arm/v7', true],
    ['linux/arm', 'linux/arm/v6', true],
    ['linux/arm/v7', 'linux/arm/v5', true],
    // Configs often leave the variant out: Docker lets OS and architecture decide then.
    ['linux/arm/v6', 'linux/arm', true],
    ['linux/arm/v6', 'linux/arm/v7', false],
    ['linux/arm', 'linux/arm/v8', false],
    ['linux/arm64', 'linux/amd64', false],
    ['linux/amd64', 'linux/386', false],
    ['windows/amd64', 'linux/amd64', false],
  ];
  for (const [asked, has, ok] of CASES) {
    it(`--platform ${asked ?? '(none)'} on an image for ${has ?? '(unsaid)'}: ${ok ? 'read' : 'refused'}`, () => {
      if (ok) checkImagePlatform(asked, has, 'img');
      else {
        assert.throws(
          () => checkImagePlatform(asked, has, 'img'),
          (err) =>
            isLadingError(err) &&
            err.code === 'NOT_FOUND' &&
            err.message === `img is an image for ${has} only, not ${asked}`,
        );
      }
    });
  }
});
