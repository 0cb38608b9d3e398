import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classify, FlattenPlan, type LayerOps, type PlannedEntry } from '../../src/flatten/plan.js';

type Spec = [path: string, typeflag?: string, linkname?: string];

/** Applies layers given as [path, typeflag, linkname] lists and returns the surviving paths. */
function survivors(layers: Spec[][]): { kept: string[]; dropped: string[] } {
  const plan = new FlattenPlan();
  const all: PlannedEntry[][] = [];
  layers.forEach((specs, layer) => {
    const ops: LayerOps = { whiteouts: [], opaque: [], entries: [] };
    const entries = specs.map(([path, typeflag = '0', linkname], index) => {
      const entry: PlannedEntry = { layer, index, path, typeflag };
      if (linkname) entry.linkname = linkname;
      return entry;
    });
    for (const e of entries) classify(ops, e);
    plan.apply(layer, ops);
    all.push(entries);
  });
  const keep = plan.survivors(layers.length);
  const kept = all.flatMap((entries, layer) =>
    entries.filter((e) => keep[layer]?.has(e.index)).map((e) => `${layer}:${e.path}`),
  );
  return { kept, dropped: plan.droppedLinks };
}

describe('FlattenPlan', () => {
  it('drops a hard link whose file a later layer deleted or replaced, keeps one whose file survives', () => {
    const { kept, dropped } = survivors([
      [['a'], ['a-link', '1', 'a'], ['b'], ['b-link', '1', 'b']],
      [['.wh.a'], ['b']],
    ]);
    assert.deepEqual(kept, ['1:b']);
    assert.deepEqual(dropped, ['a-link', 'b-link']);
    assert.deepEqual(survivors([[['a']], [['a-link', '1', 'a']]]).kept, ['0:a', '1:a-link']);
  });

  it('a file written over a directory hides what was below it; an opaque marker keeps its own layer', () => {
    const { kept } = survivors([
      [['d', '5'], ['d/x'], ['o', '5'], ['o/old']],
      [['d'], ['o/.wh..wh..opq'], ['o/new']],
    ]);
    assert.deepEqual(kept, ['0:o', '1:d', '1:o/new']);
  });
});

describe('FlattenPlan, links to links and whiteouts of directories', () => {
  it('drops a link to a dropped link, and a whiteout of a directory removes what was below it', () => {
    const { kept, dropped } = survivors([
      [['f'], ['l1', '1', 'f'], ['l2', '1', 'l1'], ['d', '5'], ['d/e', '5'], ['d/e/x'], ['implied/y']],
      [['.wh.f'], ['.wh.d'], ['implied/.wh.y']],
    ]);
    assert.deepEqual(kept, []);
    assert.deepEqual(dropped, ['l1', 'l2']);
  });
});
