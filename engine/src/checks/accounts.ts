import type { Cataloger, CatalogResult } from '../catalog/cataloger.js';
import type { FileMeta, WantedFiles } from '../image/file.js';
import type { ImageAccounts } from '../model/misconfiguration.js';

const PASSWD = '/etc/passwd';
const GROUP = '/etc/group';

/** The names an `/etc/passwd` or `/etc/group` defines: the first field of each entry (comments and blanks skipped). */
export function accountNames(content: string): string[] {
  const names = new Set<string>();
  for (const line of content.split('\n')) {
    const name = line.split(':', 1)[0]?.trim() ?? '';
    if (name && !name.startsWith('#')) names.add(name);
  }
  return [...names].sort();
}

/**
 * Reads the image's account databases for the USER check (IMG-002). They are small; only the names are kept during
 * the walk (`condense`), so a password hash in a hand-made `/etc/passwd` never reaches the inventory.
 */
export const imageAccountsCataloger: Cataloger = {
  id: 'image-accounts',
  version: 1,
  wants: (path: string, meta: FileMeta) => meta.type !== 'directory' && (path === PASSWD || path === GROUP),
  condense: (_path: string, content: Buffer) => Buffer.from(accountNames(content.toString('utf8')).join('\n')),
  async catalog(files: WantedFiles): Promise<CatalogResult> {
    const accounts: ImageAccounts = {};
    const passwd = files.get(PASSWD);
    const group = files.get(GROUP);
    if (passwd) accounts.users = accountNames(passwd.content.toString('utf8'));
    if (group) accounts.groups = accountNames(group.content.toString('utf8'));
    return { packages: [], warnings: [], accounts };
  },
};

/** Why the config's USER cannot be resolved in the image (the container would not start), or undefined. */
export function missingAccount(user: string, accounts: ImageAccounts | undefined): string | undefined {
  const [name = '', group] = user.split(':', 2);
  const numeric = (s: string) => /^\d+$/.test(s);
  const problems: string[] = [];
  if (name && !numeric(name) && !accounts?.users?.includes(name)) {
    problems.push(`user ${name} is not in ${accounts?.users ? PASSWD : `${PASSWD} (absent)`}`);
  }
  if (group && !numeric(group) && !accounts?.groups?.includes(group)) {
    problems.push(`group ${group} is not in ${accounts?.groups ? GROUP : `${GROUP} (absent)`}`);
  }
  return problems.length ? `USER ${user}: ${problems.join('; ')}` : undefined;
}
