import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const QUERY_FORMAT = '%{NAME} %{EPOCHNUM} %{VERSION} %{RELEASE} %{ARCH} %{SOURCERPM}\\n';

/** Debian's rpm listing a copy of a database (rpm writes lock and WAL files beside the one it opens). */
export function rpmQuery(dbFile: string, dbName: string, scratch: string, bdb = false): string[] {
  const dir = join(scratch, `db-${Math.random().toString(36).slice(2)}`);
  mkdirSync(dir, { recursive: true });
  copyFileSync(dbFile, join(dir, dbName));
  const args = ['--dbpath', dir, ...(bdb ? ['--define', '_db_backend bdb_ro'] : []), '-qa', '--qf', QUERY_FORMAT];
  const out = execFileSync('rpm', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return out
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('gpg-pubkey '))
    .sort();
}

/**
 * Builds a real rpm with rpmbuild (epoch, modularity label, a Python dist-info directory, a file requirement)
 * and records it in a fresh SQLite database with `rpm --justdb`. Returns the database file.
 */
export function buildDemoDatabase(scratch: string): string {
  const spec = join(scratch, 'demo.spec');
  writeFileSync(
    spec,
    [
      'Name: lading-demo',
      'Epoch: 3',
      'Version: 1.2',
      'Release: 4.el9',
      'Summary: demo',
      'License: MIT and ASL 2.0',
      'ModularityLabel: demo:1:9000:abcd',
      'BuildArch: noarch',
      'AutoReqProv: no',
      'Requires: /bin/sh',
      '%description',
      'demo',
      '%install',
      'mkdir -p %{buildroot}/usr/lib/python3/site-packages/lading_demo-1.2.dist-info',
      "echo 'Name: lading-demo' > %{buildroot}/usr/lib/python3/site-packages/lading_demo-1.2.dist-info/METADATA",
      '%files',
      '/usr/lib/python3/site-packages/lading_demo-1.2.dist-info',
      '',
    ].join('\n'),
  );
  const top = join(scratch, 'top');
  execFileSync('rpmbuild', ['--define', `_topdir ${top}`, '-bb', spec], { stdio: 'ignore' });
  const db = join(scratch, 'db');
  mkdirSync(db);
  execFileSync('rpm', ['--dbpath', db, '--initdb'], { stdio: 'ignore' });
  const rpmFile = join(top, 'RPMS/noarch/lading-demo-1.2-4.el9.noarch.rpm');
  execFileSync('rpm', ['--dbpath', db, '-i', '--justdb', '--nodeps', rpmFile], { stdio: 'ignore' });
  return join(db, 'rpmdb.sqlite');
}
