import { withEolStatus } from '../catalog/os/release/eol.js';
import type { Inventory } from '../model/inventory.js';
import type { Misconfiguration, MisconfigurationEvidence, NotedFile } from '../model/misconfiguration.js';
import type { TargetInfo } from '../model/target.js';
import { missingAccount } from './accounts.js';
import { type ConfigSecret, secretInAssignment, secretsInCommand } from './config-secrets.js';
import { IMAGE_CHECKS, type ImageCheckId } from './definitions.js';
import { type FileCheckKind, fileCheckKinds } from './files.js';

export interface ImageCheckOptions {
  /** The scan's moment: the end-of-life check (IMG-012) is judged on it. */
  now: Date;
}

/** Evidence items kept per check: enough to act on, bounded for images with thousands of cache files. */
const MAX_EVIDENCE = 100;

const FILE_CHECKS: Record<FileCheckKind, ImageCheckId> = {
  shell: 'IMG-003',
  'package-manager': 'IMG-004',
  setuid: 'IMG-005',
  'world-writable': 'IMG-006',
  cache: 'IMG-010',
};

/**
 * The image checks on what one walk gathered: the target's config and tags, the inventory's OS and noted files.
 * Pure on its inputs. Returns the failed checks in id order, each once with all its evidence; an SBOM target (no
 * files, no config) gets none, a root filesystem only the file and OS checks.
 */
export function runImageChecks(
  target: TargetInfo,
  inventory: Inventory,
  options: ImageCheckOptions,
): Misconfiguration[] {
  if (target.kind === 'sbom') return [];
  const evidence = new Map<ImageCheckId, MisconfigurationEvidence[]>();
  const add = (id: ImageCheckId, item: MisconfigurationEvidence) => {
    const list = evidence.get(id) ?? [];
    list.push(item);
    evidence.set(id, list);
  };

  for (const file of inventory.notedFiles ?? []) {
    for (const kind of fileCheckKinds(file.path, file.mode)) add(FILE_CHECKS[kind], fileEvidence(kind, file));
  }
  const config = target.config;
  if (target.kind === 'image' && config) {
    const user = config.user ?? '';
    if (user === '' || /^(root|0)(:.*)?$/.test(user)) {
      add('IMG-001', { message: user === '' ? 'no USER: runs as root' : `USER ${user}` });
    } else {
      const missing = missingAccount(user, inventory.accounts);
      if (missing) add('IMG-002', { message: missing });
    }
    for (const secret of configSecrets(config)) {
      add('IMG-007', { message: `${secret.where}: ${secret.why} = ${secret.masked}` });
    }
    historySteps(target).forEach((step, i) => {
      const remote = remoteContent(step);
      if (remote) add('IMG-008', { message: `history step ${i + 1}: ${remote}` });
    });
    const test = config.healthcheck ?? [];
    if (test.length === 0 || test[0] === 'NONE') {
      add('IMG-009', { message: test[0] === 'NONE' ? 'HEALTHCHECK NONE' : 'no HEALTHCHECK' });
    }
  }
  if (target.kind === 'image') {
    const tag = tagProblem(target);
    if (tag) add('IMG-011', { message: tag });
  }
  if (inventory.os) {
    const os = withEolStatus(inventory.os, options.now);
    if (os.eol) add('IMG-012', { message: `${os.name ?? `${os.family} ${os.version}`}: end of life ${os.eolDate}` });
  }

  const out: Misconfiguration[] = [];
  for (const check of IMAGE_CHECKS) {
    const items = evidence.get(check.id);
    if (!items) continue;
    const kept = items.slice(0, MAX_EVIDENCE);
    if (items.length > MAX_EVIDENCE) kept.push({ message: `… and ${items.length - MAX_EVIDENCE} more` });
    out.push({ ...check, evidence: kept });
  }
  return out;
}

function fileEvidence(kind: FileCheckKind, file: NotedFile): MisconfigurationEvidence {
  const mode = file.mode.toString(8).padStart(4, '0');
  const what =
    kind === 'setuid'
      ? `${file.mode & 0o4000 ? 'setuid' : ''}${(file.mode & 0o6000) === 0o6000 ? '+' : ''}${file.mode & 0o2000 ? 'setgid' : ''}`
      : kind === 'world-writable'
        ? 'world-writable'
        : kind === 'package-manager'
          ? 'package manager'
          : kind;
  const item: MisconfigurationEvidence = { message: `${file.path} (${what}, mode ${mode})`, path: file.path };
  if (file.layer !== undefined) item.layer = file.layer;
  return item;
}

function configSecrets(config: NonNullable<TargetInfo['config']>): ConfigSecret[] {
  const found: ConfigSecret[] = [];
  for (const entry of config.env) {
    const eq = entry.indexOf('=');
    const name = eq < 0 ? entry : entry.slice(0, eq);
    const hit = secretInAssignment(`env ${name}`, name, eq < 0 ? '' : entry.slice(eq + 1));
    if (hit) found.push(hit);
  }
  for (const [name, value] of Object.entries(config.labels)) {
    const hit = secretInAssignment(`label ${name}`, name, value);
    if (hit) found.push(hit);
  }
  historySteps({ config }).forEach((step, i) => {
    for (const hit of secretsInCommand(`history step ${i + 1}`, step)) found.push(hit);
  });
  return found;
}

/** The history's commands, bottom first (steps without one keep their place, as empty strings). */
function historySteps(target: Pick<TargetInfo, 'config'>): string[] {
  return (target.config?.history ?? []).map((h) => h.createdBy ?? '');
}

const ADD_URL = /\bADD\s+((?:--\S+\s+)*)["[]?\s*"?((?:https?|ftp):\/\/\S+?)"?(?:[\s,\]]|$)/;
const PIPE_TO_SHELL = /\b(?:curl|wget)\b[^|;&]*\|\s*(?:sudo\s+)?(?:\S*\/)?(?:ba|da|z|k)?sh\b/;

/** What a history step fetched without pinning it, in words; undefined when nothing. */
function remoteContent(step: string): string | undefined {
  const add = ADD_URL.exec(step);
  // `ADD --checksum=sha256:…` is verified by the builder.
  if (add && !/--checksum=/.test(add[1] ?? '')) return `ADD from ${clip(add[2] as string)}`;
  const piped = PIPE_TO_SHELL.exec(step);
  if (piped) return `download piped to a shell: ${clip(piped[0])}`;
  return undefined;
}

function clip(text: string): string {
  return text.length > 120 ? `${text.slice(0, 119)}…` : text;
}

/** `latest`, or no tag and no digest to name the image by; undefined when it has a version tag or is pinned. */
function tagProblem(target: TargetInfo): string | undefined {
  const names = [target.ref, ...(target.repoTags ?? [])];
  const tags = names.map(tagOf).filter((t): t is string => t !== undefined);
  if (tags.includes('latest')) return 'tagged latest';
  if (tags.length > 0) return undefined;
  return names.some((n) => n.includes('@sha256:')) ? undefined : 'no tag';
}

/**
 * The tag in `name:tag`, in a bare tag (an OCI layout's `org.opencontainers.image.ref.name`), or in the ref of an
 * `oci:`/`oci-archive:` target (`oci:/path:tag`); undefined for digests and untagged names.
 */
function tagOf(name: string): string | undefined {
  if (name.includes('@')) return undefined;
  const source = /^(oci|oci-archive|docker-archive|dir):(.*)$/.exec(name);
  if (source) {
    if (source[1] === 'docker-archive' || source[1] === 'dir') return undefined;
    // oci:/path/to/layout:tag: a colon after the last slash.
    const rest = source[2] as string;
    const colon = rest.lastIndexOf(':');
    return colon > rest.lastIndexOf('/') ? rest.slice(colon + 1) || undefined : undefined;
  }
  const colon = name.lastIndexOf(':');
  if (colon > name.lastIndexOf('/')) return name.slice(colon + 1) || undefined;
  return name.includes('/') ? undefined : name || undefined;
}
