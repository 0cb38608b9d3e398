import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type FixFacts, fixKind, isoWeekName, lastCompleteWeek, weekOfName, weekStart } from '../src/metrics/index.js';

// The pure parts of the metrics: fix kinds (PIPELINE.md 3.2 (d), first match wins) and ISO week arithmetic.

const base: FixFacts = {
  osPackage: true,
  beforePosition: 0,
  afterPosition: 0,
  baseChanged: true,
  osChanged: false,
  removed: false,
};

describe('fixKind', () => {
  it('an OS package of the first layer, fixed by a new first layer: a base rebuild, or a bump when the OS moved', () => {
    assert.equal(fixKind(base), 'base-rebuild');
    assert.equal(fixKind({ ...base, osChanged: true }), 'base-bump');
    // a new base that dropped the package is still the base's doing
    assert.equal(fixKind({ ...base, removed: true, afterPosition: undefined }), 'base-rebuild');
  });
  it('the same base with the fixed version in a later layer: an explicit upgrade', () => {
    assert.equal(fixKind({ ...base, baseChanged: false, afterPosition: 2 }), 'explicit-upgrade');
    assert.equal(fixKind({ ...base, afterPosition: 2 }), 'explicit-upgrade');
  });
  it('a package gone without a base change: a removal', () => {
    assert.equal(fixKind({ ...base, baseChanged: false, removed: true, afterPosition: undefined }), 'removal');
    assert.equal(fixKind({ ...base, osPackage: false, removed: true, afterPosition: undefined }), 'removal');
  });
  it('a language package upgraded: an application dependency, wherever its layer', () => {
    assert.equal(fixKind({ ...base, osPackage: false }), 'app-dependency');
    assert.equal(fixKind({ ...base, osPackage: false, beforePosition: 3, afterPosition: 3 }), 'app-dependency');
  });
});

describe('ISO weeks', () => {
  it('names weeks by ISO 8601 numbering, across year ends', () => {
    assert.equal(isoWeekName(Date.UTC(2026, 10, 23)), '2026-W48');
    assert.equal(isoWeekName(Date.UTC(2026, 11, 28)), '2026-W53'); // 2026 starts on a Thursday: 53 weeks
    assert.equal(isoWeekName(Date.UTC(2027, 0, 4)), '2027-W01');
    assert.equal(isoWeekName(Date.UTC(2024, 11, 30)), '2025-W01'); // Monday 30 Dec 2024 starts 2025's week 1
  });
  it('reads a week name back to its Monday, refusing weeks that do not exist', () => {
    assert.equal(weekOfName('2026-W48'), Date.UTC(2026, 10, 23));
    assert.equal(weekOfName('2025-W01'), Date.UTC(2024, 11, 30));
    assert.equal(weekOfName('2026-W53'), Date.UTC(2026, 11, 28));
    assert.equal(weekOfName('2025-W53'), undefined); // 2025 has 52 weeks
    assert.equal(weekOfName('2026-W00'), undefined);
    assert.equal(weekOfName('2026-48'), undefined);
    assert.equal(weekOfName('2026-W4'), undefined);
  });
  it('the week of a time starts on its Monday; the last complete week ends at the latest Monday midnight', () => {
    assert.equal(weekStart(Date.UTC(2026, 11, 6, 23, 59)), Date.UTC(2026, 10, 30)); // Sunday → the Monday before
    assert.equal(weekStart(Date.UTC(2026, 10, 30, 0, 0)), Date.UTC(2026, 10, 30));
    // Monday 06:00, the schedule's tick: the week that ended at 00:00 that day
    assert.equal(lastCompleteWeek(Date.UTC(2026, 10, 30, 6)), Date.UTC(2026, 10, 23));
  });
});
