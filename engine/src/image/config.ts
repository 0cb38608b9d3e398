import { LadingError } from '../errors/lading-error.js';
import type { ImageConfigSummary, LayerInfo } from '../model/target.js';
import { formatPlatform } from '../oci/platform.js';

export interface ParsedImageConfig {
  platform?: string;
  diffIds: string[];
  summary: ImageConfigSummary;
  /** `created_by` of the history steps that made a layer (empty_layer steps skipped), bottom first. */
  layerCreatedBy: (string | undefined)[];
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

function optString(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** Parses a JSON document the image carries, with an error that names it instead of a parser stack. */
export function parseJson(raw: Buffer, what: string): Json {
  let doc: unknown;
  try {
    doc = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new LadingError('BAD_INPUT', `${what} is not valid JSON`);
  }
  if (!isObject(doc)) throw new LadingError('BAD_INPUT', `${what} is not a JSON object`);
  return doc;
}

const DIGEST = /^sha(256|384|512):[a-f0-9]+$/;

/** The parts of an image config (OCI and Docker share the format) that the report and the walk need. */
export function parseImageConfig(raw: Buffer, what: string): ParsedImageConfig {
  const doc = parseJson(raw, what);
  const rootfs = doc['rootfs'];
  const diffIds = isObject(rootfs) ? strings(rootfs['diff_ids']) : [];
  if (!isObject(rootfs) || !Array.isArray(rootfs['diff_ids']) || diffIds.some((d) => !DIGEST.test(d))) {
    throw new LadingError('BAD_INPUT', `${what} has no valid rootfs.diff_ids`);
  }
  const c = isObject(doc['config']) ? doc['config'] : {};
  const labels: Record<string, string> = {};
  if (isObject(c['Labels'])) {
    for (const [k, v] of Object.entries(c['Labels'])) if (typeof v === 'string') labels[k] = v;
  }
  const history = (Array.isArray(doc['history']) ? doc['history'] : []).filter(isObject).map((h) => {
    const step: NonNullable<ImageConfigSummary['history']>[number] = {};
    const created = optString(h['created']);
    const createdBy = optString(h['created_by']);
    const comment = optString(h['comment']);
    if (created) step.created = created;
    if (createdBy) step.createdBy = createdBy;
    if (h['empty_layer'] === true) step.emptyLayer = true;
    if (comment) step.comment = comment;
    return step;
  });
  const summary: ImageConfigSummary = {
    env: strings(c['Env']),
    entrypoint: strings(c['Entrypoint']),
    cmd: strings(c['Cmd']),
    labels,
    history,
  };
  const user = optString(c['User']);
  const workingDir = optString(c['WorkingDir']);
  const created = optString(doc['created']);
  if (user) summary.user = user;
  if (workingDir) summary.workingDir = workingDir;
  if (created) summary.created = created;
  if (isObject(c['ExposedPorts'])) summary.exposedPorts = Object.keys(c['ExposedPorts']).sort();
  // Docker's extension to the OCI config: the image checks look for it (a missing HEALTHCHECK).
  const healthcheck = isObject(c['Healthcheck']) ? strings(c['Healthcheck']['Test']) : [];
  if (healthcheck.length) summary.healthcheck = healthcheck;

  const layerSteps = history.filter((h) => !h.emptyLayer);
  // Only trust the pairing when the counts agree; squashed or hand-made images often have no usable history.
  const layerCreatedBy =
    layerSteps.length === diffIds.length ? layerSteps.map((h) => h.createdBy) : diffIds.map(() => undefined);

  const os = optString(doc['os']);
  const arch = optString(doc['architecture']);
  const variant = optString(doc['variant']);
  const parsed: ParsedImageConfig = { diffIds, summary, layerCreatedBy };
  if (os && arch) parsed.platform = formatPlatform({ os, architecture: arch, variant });
  return parsed;
}

/** Layer descriptions for the report: diff-ids from the config, blob facts from the manifest where there is one. */
export function layerInfos(
  config: ParsedImageConfig,
  blobs?: { digest?: string; size?: number; mediaType?: string }[],
): LayerInfo[] {
  return config.diffIds.map((diffId, i) => {
    const info: LayerInfo = { diffId };
    const blob = blobs?.[i];
    if (blob?.digest) info.digest = blob.digest;
    if (blob?.size !== undefined) info.size = blob.size;
    if (blob?.mediaType) info.mediaType = blob.mediaType;
    const createdBy = config.layerCreatedBy[i];
    if (createdBy) info.createdBy = createdBy;
    return info;
  });
}
