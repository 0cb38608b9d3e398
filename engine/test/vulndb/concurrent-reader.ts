// Child process of concurrent-readers.test.ts: scans one package again and again until its stdin closes, printing
// one line per scan: `A` or `B` (which data set the findings equal), `MIXED <ids>` or `ERROR <message>`.
import { setImmediate as tick } from 'node:timers/promises';
import { findVulnerabilities } from '../../src/match/find-vulnerabilities.js';
import type { Inventory } from '../../src/model/inventory.js';
import { pkg } from '../match/inventory-helpers.js';

const [dbDir, idsA, idsB] = process.argv.slice(2) as [string, string, string];
const inventory: Inventory = {
  os: { family: 'debian', version: '12', ecosystem: 'Debian:12' },
  warnings: [],
  packages: [pkg('deb', 'targetpkg', '1.0-1')],
};
let open = true;
process.stdin.on('end', () => {
  open = false;
});
process.stdin.resume();
while (open) {
  let line: string;
  try {
    const { findings } = await findVulnerabilities(inventory, { dbDir, offline: true, now: new Date() });
    const ids = findings
      .map((f) => f.advisory.id)
      .sort()
      .join(',');
    line = ids === idsA ? 'A' : ids === idsB ? 'B' : `MIXED ${ids}`;
  } catch (err) {
    line = `ERROR ${(err as Error).message}`;
  }
  process.stdout.write(`${line}\n`);
  await tick();
}
