// Images for the image-check tests, built with umoci (a tool we did not write) from a directory tree, then given
// what umoci cannot set (a Docker HEALTHCHECK, an untagged index) by rewriting the config, manifest and index.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface UmociImageInput {
  /** Files of the one layer: path → content, or content with a mode. */
  files?: Record<string, string | { content: string; mode: number }>;
  /** Default `1000` (non-root); `''` leaves USER unset. */
  user?: string;
  env?: string[];
  labels?: Record<string, string>;
  /** `created_by` of the config step umoci records. */
  createdBy?: string;
  /** Default true: a HEALTHCHECK is added to the config. */
  healthcheck?: boolean;
  /** Default `1.0`; undefined-by-`null` leaves the image untagged (the only manifest of the layout). */
  tag?: string | null;
}

/** Builds the image in `dir/layout` and returns the target spec that names it (`oci:…:tag` or `oci:…`). */
export async function umociImage(dir: string, input: UmociImageInput): Promise<string> {
  const layout = join(dir, 'layout');
  const tree = join(dir, 'tree');
  await mkdir(tree, { recursive: true });
  for (const [path, spec] of Object.entries(input.files ?? {})) {
    const file = join(tree, path);
    await mkdir(dirname(file), { recursive: true });
    const { content, mode } = typeof spec === 'string' ? { content: spec, mode: 0o644 } : spec;
    await writeFile(file, content);
    await chmod(file, mode);
  }
  await run('umoci', ['init', '--layout', layout]);
  await run('umoci', ['new', '--image', `${layout}:base`]);
  await run('umoci', ['insert', '--image', `${layout}:base`, tree, '/']);
  const tag = input.tag === undefined ? '1.0' : input.tag;
  const built = tag ?? 'untagged';
  const args = ['config', '--image', `${layout}:base`, '--tag', built];
  const user = input.user ?? '1000';
  if (user) args.push('--config.user', user);
  for (const e of input.env ?? []) args.push('--config.env', e);
  for (const [k, v] of Object.entries(input.labels ?? {})) args.push('--config.label', `${k}=${v}`);
  if (input.createdBy) args.push('--history.created_by', input.createdBy);
  await run('umoci', args);
  await rewrite(layout, built, input.healthcheck !== false, tag !== null);
  return tag === null ? `oci:${layout}` : `oci:${layout}:${tag}`;
}

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

async function putBlob(layout: string, bytes: Buffer): Promise<{ digest: string; size: number }> {
  const hex = createHash('sha256').update(bytes).digest('hex');
  await writeFile(join(layout, 'blobs/sha256', hex), bytes);
  return { digest: `sha256:${hex}`, size: bytes.length };
}

const blob = (layout: string, digest: string) => readFile(join(layout, 'blobs/sha256', digest.slice('sha256:'.length)));

/** Keeps only the built image in the index, with a HEALTHCHECK when asked and its tag unless untagged. */
async function rewrite(layout: string, ref: string, healthcheck: boolean, tagged: boolean): Promise<void> {
  const index = JSON.parse((await readFile(join(layout, 'index.json'))).toString()) as { manifests: Descriptor[] };
  const entry = index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === ref);
  if (!entry) throw new Error(`umoci wrote no ${ref}`);
  const manifest = JSON.parse((await blob(layout, entry.digest)).toString()) as { config: Descriptor };
  if (healthcheck) {
    const config = JSON.parse((await blob(layout, manifest.config.digest)).toString());
    config.config = { ...config.config, Healthcheck: { Test: ['CMD', '/app/server', '--health'] } };
    manifest.config = { ...manifest.config, ...(await putBlob(layout, Buffer.from(JSON.stringify(config)))) };
  }
  const written = await putBlob(layout, Buffer.from(JSON.stringify(manifest)));
  const out: Descriptor = { mediaType: entry.mediaType, ...written };
  if (tagged) out.annotations = { 'org.opencontainers.image.ref.name': ref };
  await writeFile(join(layout, 'index.json'), JSON.stringify({ ...index, manifests: [out] }));
}
