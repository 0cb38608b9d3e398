import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { readAttachmentLayers } from '../attest/attachments.js';
import { signBlob } from '../attest/blob.js';
import { DSSE_MEDIA_TYPE, PREDICATE_TYPE_ANNOTATION } from '../attest/cosign-layout.js';
import { IN_TOTO_PAYLOAD_TYPE, signEnvelope } from '../attest/dsse.js';
import { attestImage, verifyImageAttestations } from '../attest/image-attestations.js';
import { signImage, verifyImageSignatures } from '../attest/image-signatures.js';
import type { ResolvedImage } from '../attest/image-target.js';
import { PREDICATE_TYPES } from '../attest/predicate-types.js';
import { buildProvenance, rfc3339, SLSA_PROVENANCE_V1 } from '../attest/provenance.js';
import type { AttachmentRegistry } from '../attest/registry-port.js';
import { buildStatement, type ResourceDescriptor } from '../attest/statement.js';
import { throwIfAborted } from '../errors/abort.js';
import { LadingError } from '../errors/lading-error.js';
import { writeFileAtomically } from '../files/index.js';
import { flattenImage } from '../flatten/flatten.js';
import type { Report } from '../model/report.js';
import { applyPatch, fixableFindings, planPatch } from '../patch/patch.js';
import type { PatchPlan, PatchResult } from '../patch/types.js';
import { formatRepository, parseReference, type RepositoryRef } from '../registry/reference.js';
import { renderJson } from '../report/json.js';
import { DEFAULT_RENDER_OPTIONS, type RenderOptions } from '../report/render-options.js';
import { renderSarif } from '../report/sarif.js';
import { renderCycloneDx } from '../sbom/cyclonedx-writer.js';
import { renderSpdx } from '../sbom/spdx-writer.js';
import { assess } from '../scan/assess.js';
import { type StagedImage, type StagedPlatform, stageSource } from './source.js';
import { byDigestKeys, seed004Keys } from './storage-layout.js';
import type {
  NotifyReceipt,
  PipelineEvent,
  PipelineOptions,
  PipelinePlatformResult,
  PipelinePorts,
  PipelineResult,
  StagedArtifact,
} from './types.js';

const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/** One platform's scan, verdict and files. */
interface PlatformRun {
  staged: StagedPlatform;
  report: Report;
  reportBytes: Buffer;
  artifacts: StagedArtifact[];
  files: Map<StagedArtifact['type'], Buffer>;
}

/**
 * One CI step from build output to signed, stored, reported image, in the order that keeps every tag safe
 * (docs/ci.md): read and verify → scan and gate (a failure stops here: nothing remote is written) → CycloneDX and SPDX
 * from the same inventory → SLSA v1 provenance → signatures of every file → registry: signatures and attestations,
 * then the image by digest → object storage → tags, the last registry write → notification.
 *
 * A second run with the same input writes nothing: signatures and attestations by this key already there are kept,
 * blobs present are not uploaded, immutable storage keys are left, tags already at the digest are not touched.
 */
export async function runPipeline(options: PipelineOptions, ports: PipelinePorts): Promise<PipelineResult> {
  const emit = (step: PipelineEvent['step'], message: string) => options.onEvent?.({ step, message });
  const target = parseImageTarget(options.image);
  for (const tag of options.tags) {
    if (!TAG.test(tag)) throw new LadingError('USAGE', `${tag}: not a valid tag`, { option: 'tag' });
  }
  const remoteRegistry = options.push && !options.dryRun;
  if (remoteRegistry && !ports.registry) throw new LadingError('USAGE', 'pushing needs registry access');
  const warnings: string[] = [];
  if (options.tags.length > 0 && !options.push && !options.dryRun) {
    warnings.push('tags are moved only with push: no tag is moved');
  }
  await mkdir(options.outDir, { recursive: true });

  // 0: read the build output, every blob checked against its digest.
  emit('read', `reading ${options.source}`);
  const stageOptions = {
    platform: options.platform,
    stagingDir: options.outDir,
    ...(ports.registry ? { registry: ports.registry } : {}),
  };
  let staged = await stageSource(options.source, stageOptions);
  try {
    const inputDigest = staged.top.digest;
    throwIfAborted(options.signal);
    let runs: PlatformRun[] | undefined;
    const transformed: { patch?: PatchOutcome; flattened?: string } = {};

    // 1-2: patch, then flatten; each gives a new image (a new digest), read and verified again.
    let source = options.source;
    if (options.patch && options.patch !== 'off') {
      const only = onePlatform(staged, 'patch');
      runs = await scanAll(options, ports, staged, emit);
      transformed.patch = await patchImage(options, only.scanTarget, runs[0]!.report, warnings, emit);
      if (transformed.patch.image) source = transformed.patch.image;
    }
    if (options.flatten) {
      const spec = source === options.source ? onePlatform(staged, 'flatten').scanTarget : source;
      emit('flatten', `flattening ${spec}`);
      const outDir = join(options.outDir, 'flattened');
      const flattened = await flattenImage(spec, {
        outDir,
        ...(options.registryAccess ?? {}),
        ...(options.signal ? { signal: options.signal } : {}),
      });
      source = `oci:${outDir}@${flattened.manifestDigest}`;
      transformed.flattened = flattened.manifestDigest;
    }
    if (source !== options.source) {
      emit('read', `reading ${source}`);
      const transformedImage = await stageSource(source, { ...stageOptions, platform: 'all' });
      await staged.close();
      staged = transformedImage;
      runs = undefined;
    }

    // 3-4: scan every platform, then the gate.
    runs ??= await scanAll(options, ports, staged, emit);
    const platforms: PipelinePlatformResult[] = runs.map((r) => ({
      platform: r.staged.platform,
      arch: r.staged.arch,
      digest: r.staged.digest,
      pass: r.report.gate?.pass ?? true,
      reasons: r.report.gate?.pass === false ? r.report.gate.reasons : [],
      findings: r.report.findings.length,
    }));
    const result: PipelineResult = {
      status: 'passed',
      dryRun: options.dryRun,
      source: options.source,
      inputDigest,
      image: target.name,
      digest: staged.top.digest,
      tags: [...options.tags],
      platforms,
      artifacts: [],
      registry: { written: [], tagsMoved: [], unchanged: [], attestations: [] },
      warnings,
    };
    if (transformed.patch) {
      result.patch = {
        mode: transformed.patch.mode,
        plan: 'patch-plan.json',
        patched: transformed.patch.patched,
        ...(transformed.patch.image ? { digest: digestOfSpec(transformed.patch.image) } : {}),
      };
    }
    if (transformed.flattened) result.flattenedDigest = transformed.flattened;
    if (platforms.some((p) => !p.pass)) {
      emit('gate', 'the gate failed: nothing is pushed, uploaded or notified');
      result.status = 'gate-failed';
      result.artifacts = runs.flatMap((r) => r.artifacts);
      await writeResult(options.outDir, result);
      return result;
    }
    emit('gate', 'the gate passed');

    // 5: both SBOMs from the one inventory each report holds.
    const renderOptions = renderOptionsFor(options);
    for (const run of runs) {
      emit('sbom', `SBOMs of ${run.staged.platform}`);
      await stage(
        options.outDir,
        run,
        'sbom-cyclonedx',
        'sbom.cdx.json',
        'application/vnd.cyclonedx+json',
        Buffer.from(renderCycloneDx(run.report, renderOptions)),
      );
      await stage(
        options.outDir,
        run,
        'sbom-spdx',
        'sbom.spdx.json',
        'application/spdx+json',
        Buffer.from(renderSpdx(run.report, renderOptions)),
      );
    }

    // 6: the provenance names the final digests, the input image, and the SBOMs and reports as byproducts.
    emit('provenance', `SLSA v1 provenance for ${target.name}@${staged.top.digest}`);
    const subjects: ResourceDescriptor[] = [
      { name: target.name, digest: { sha256: hexOf(staged.top.digest) } },
      ...runs
        .filter((r) => r.staged.digest !== staged.top.digest)
        .map((r) => ({ name: target.name, digest: { sha256: hexOf(r.staged.digest) } })),
    ];
    const dependencies: ResourceDescriptor[] = [
      {
        uri: inputUri(options.source),
        digest: { sha256: hexOf(inputDigest) },
        annotations: { role: 'input-image' },
      },
      // The packages a patch layer installed, each by URL and the sha256 its verified repository index lists.
      ...(transformed.patch?.resolvedDependencies ?? []).map((d) => ({ ...d, annotations: { role: 'patch-package' } })),
    ];
    const byproducts: ResourceDescriptor[] = runs.flatMap((r) =>
      r.artifacts.map((a) => ({
        name: a.path,
        digest: { sha256: a.sha256 },
        mediaType: a.mediaType,
        annotations: { role: a.type, platform: r.staged.platform },
      })),
    );
    const predicate = buildProvenance({
      context: ports.buildContext,
      dependencies,
      byproducts,
      startedOn: options.startedOn,
      finishedOn: ports.clock(),
    });
    const statementBytes = Buffer.from(
      `${JSON.stringify(buildStatement(subjects, SLSA_PROVENANCE_V1, predicate), null, 2)}\n`,
    );
    const provenance = await stageFile(
      options.outDir,
      undefined,
      'provenance',
      'provenance.intoto.json',
      'application/vnd.in-toto+json',
      statementBytes,
    );

    // 7: every staged file gets its detached signature (cosign sign-blob format).
    emit('sign', 'signing every artifact');
    const artifacts = [...runs.flatMap((r) => r.artifacts), provenance];
    for (const a of artifacts) {
      const bytes = await readStaged(options.outDir, a.path);
      await writeFileAtomically(
        join(options.outDir, a.signaturePath),
        signBlob(ports.signingKey, bytes).toString('base64'),
      );
    }
    result.artifacts = artifacts;
    // The provenance also as a DSSE envelope (what `attest` pushes), for consumers that take a signed attestation
    // file rather than a document and its detached signature: the server's ingest, `cosign verify-blob-attestation`.
    const provenanceEnvelope = Buffer.from(
      `${JSON.stringify(signEnvelope(ports.signingKey, IN_TOTO_PAYLOAD_TYPE, statementBytes))}\n`,
    );
    await writeFileAtomically(join(options.outDir, 'provenance.dsse.json'), provenanceEnvelope);

    // 8: the registry: attachments first, then the image by digest, untagged.
    throwIfAborted(options.signal);
    const registry = ports.registry;
    if (remoteRegistry && registry) {
      await guardRemote(result, async () => {
        await pushAttachments(registry, target, staged, runs, predicate, ports.signingKey, result, emit);
        await pushImage(registry, target.repo, staged, result, emit);
      });
    } else {
      emit('push', options.dryRun ? 'dry run: nothing is pushed' : 'no --push: nothing is pushed');
    }

    // 9: object storage, before any tag points at the digest.
    if (ports.store && !options.dryRun) {
      const store = ports.store;
      await guardRemote(result, () =>
        upload(store, options, target, staged, runs, provenance, ports.signingKey, result, emit),
      );
    }

    // 10: the tags, the last registry write.
    throwIfAborted(options.signal);
    if (remoteRegistry && registry) {
      await guardRemote(result, async () => {
        for (const tag of options.tags) {
          const current = await registry.fetchManifest(target.repo, tag);
          if (current?.digest === staged.top.digest) {
            result.registry.unchanged.push(`${target.name}:${tag}`);
            continue;
          }
          emit('tag', `${target.name}:${tag} → ${staged.top.digest}`);
          await registry.pushManifest(target.repo, tag, staged.top.bytes, staged.top.mediaType);
          result.registry.tagsMoved.push(`${target.name}:${tag}`);
        }
      });
    }

    // 11: tell the server; a server that is down does not fail the release unless asked to.
    if (ports.notifier && !options.dryRun) {
      result.notify = await notify(ports, options, target, staged, runs, provenanceEnvelope, warnings, emit);
    }
    await writeResult(options.outDir, result);
    return result;
  } finally {
    await staged.close();
  }
}

/** What the patch step did: its plan (staged as `patch-plan.json`), and the patched image when it applied any. */
interface PatchOutcome {
  mode: 'plan' | 'apply';
  plan: PatchPlan;
  /** The patched image's TARGET (an OCI layout in --out), when packages were replaced. */
  image?: string;
  patched: PatchResult['patched'];
  resolvedDependencies: PatchResult['resolvedDependencies'];
}

/** Patching and flattening make one image: an index needs its platform named. */
function onePlatform(staged: StagedImage, step: 'patch' | 'flatten'): StagedPlatform {
  const [only] = staged.platforms;
  if (!only || staged.platforms.length > 1) {
    throw new LadingError(
      'USAGE',
      `${staged.source} has ${staged.platforms.length} platforms; ${step === 'patch' ? 'patching' : 'flattening'} makes one image: name its platform`,
      { option: 'platform' },
    );
  }
  return only;
}

/** Scans and judges every platform of the image, staging each report and its SARIF in --out. */
async function scanAll(
  options: PipelineOptions,
  ports: PipelinePorts,
  staged: StagedImage,
  emit: (step: PipelineEvent['step'], message: string) => void,
): Promise<PlatformRun[]> {
  const runs: PlatformRun[] = [];
  for (const platform of staged.platforms) {
    emit('scan', `scanning ${platform.platform} ${platform.digest}`);
    const scanned = await ports.scan(platform.scanTarget, options.signal ? { signal: options.signal } : {});
    const report = assess(scanned, {
      ...(options.policy ? { policy: options.policy } : {}),
      ...(options.baseline ? { baseline: options.baseline } : {}),
      ...(options.baselineSeverity ? { baselineSeverity: options.baselineSeverity } : {}),
      ...(options.failOn ? { failOn: options.failOn } : {}),
      now: options.startedOn,
    });
    const reportBytes = Buffer.from(renderJson(report));
    const run: PlatformRun = { staged: platform, report, reportBytes, artifacts: [], files: new Map() };
    await stage(options.outDir, run, 'report', 'report.json', 'application/json', reportBytes);
    await stage(
      options.outDir,
      run,
      'sarif',
      'report.sarif',
      'application/sarif+json',
      Buffer.from(renderSarif(report, renderOptionsFor(options))),
    );
    runs.push(run);
  }
  return runs;
}

/**
 * `--patch plan`: the plan of the package updates that fix the scan's findings, written to `patch-plan.json`.
 * `--patch apply`: those that need no maintainer scripts applied as one new layer (`@lading/engine/patch`); the
 * patched image is what the pipeline goes on with. Nothing applicable is not a failure here: the image goes on as
 * it is, with a warning saying why.
 */
async function patchImage(
  options: PipelineOptions,
  spec: string,
  report: Report,
  warnings: string[],
  emit: (step: PipelineEvent['step'], message: string) => void,
): Promise<PatchOutcome> {
  const mode = options.patch === 'apply' ? 'apply' : 'plan';
  const patchOptions = {
    findings: fixableFindings(report.findings),
    now: options.startedOn,
    ...(options.patchMirror ? { mirror: options.patchMirror } : {}),
    ...(options.registryAccess ?? {}),
    ...(options.signal ? { signal: options.signal } : {}),
  };
  emit('patch', `${mode === 'apply' ? 'patching' : 'planning the patch of'} ${spec}`);
  const writePlan = (plan: PatchPlan) =>
    writeFileAtomically(join(options.outDir, 'patch-plan.json'), `${JSON.stringify(plan, null, 2)}\n`);
  if (mode === 'plan') {
    const plan = await planPatch(spec, patchOptions);
    await writePlan(plan);
    return { mode, plan, patched: [], resolvedDependencies: [] };
  }
  const outDir = join(options.outDir, 'patched');
  try {
    const result = await applyPatch(spec, {
      ...patchOptions,
      outDir,
      ...(options.sourceDateEpoch !== undefined ? { created: rfc3339(new Date(options.sourceDateEpoch * 1000)) } : {}),
    });
    await writePlan(result.plan);
    emit('patch', `${result.patched.length} packages replaced: ${result.manifestDigest}`);
    return {
      mode,
      plan: result.plan,
      image: `oci:${outDir}@${result.manifestDigest}`,
      patched: result.patched,
      resolvedDependencies: result.resolvedDependencies,
    };
  } catch (err) {
    // GATE_FAILED is the patch module's "nothing to patch without maintainer scripts": the plan says why.
    if (!(err instanceof LadingError) || err.code !== 'GATE_FAILED') throw err;
    const plan = await planPatch(spec, patchOptions);
    await writePlan(plan);
    warnings.push(`nothing patched: ${err.message}`);
    return { mode, plan, patched: [], resolvedDependencies: [] };
  }
}

interface ImageTarget {
  repo: RepositoryRef;
  name: string;
}

/** `--image` is where the image goes: a repository. A tag or digest there would be ignored or contradict --tag. */
function parseImageTarget(image: string): ImageTarget {
  const lastPart = image.slice(image.lastIndexOf('/') + 1);
  if (image.includes('@') || lastPart.includes(':')) {
    throw new LadingError(
      'USAGE',
      `${image}: name the repository only (REGISTRY/REPOSITORY) and give its tags separately`,
      {
        option: 'image',
      },
    );
  }
  let ref: ReturnType<typeof parseReference>;
  try {
    ref = parseReference(image);
  } catch (err) {
    throw new LadingError('USAGE', `${image}: not a REGISTRY/REPOSITORY name`, { option: 'image', cause: err });
  }
  const repo = { registry: ref.registry, repository: ref.repository };
  return { repo, name: formatRepository(repo) };
}

function renderOptionsFor(options: PipelineOptions): RenderOptions {
  return {
    ...DEFAULT_RENDER_OPTIONS,
    ...(options.sourceDateEpoch !== undefined ? { sourceDateEpoch: options.sourceDateEpoch } : {}),
  };
}

/** The digest a `…@sha256:<hex>` TARGET names. */
function digestOfSpec(spec: string): string {
  return spec.slice(spec.lastIndexOf('@') + 1);
}

function hexOf(digest: string): string {
  return digest.replace(/^sha256:/, '');
}

function sha256Hex(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The input as a URI for the provenance: a local build output is named by its scheme and path as given. */
function inputUri(source: string): string {
  return source.startsWith('registry:') ? `docker://${source.slice('registry:'.length)}` : source;
}

async function stage(
  outDir: string,
  run: PlatformRun,
  type: StagedArtifact['type'],
  file: string,
  mediaType: string,
  bytes: Buffer,
): Promise<void> {
  run.artifacts.push(await stageFile(outDir, run.staged.arch, type, file, mediaType, bytes));
  run.files.set(type, bytes);
}

async function stageFile(
  outDir: string,
  arch: string | undefined,
  type: StagedArtifact['type'],
  file: string,
  mediaType: string,
  bytes: Buffer,
): Promise<StagedArtifact> {
  const path = arch ? `${arch}/${file}` : file;
  await mkdir(join(outDir, arch ?? '.'), { recursive: true });
  await writeFileAtomically(join(outDir, path), bytes);
  return {
    type,
    path,
    mediaType,
    sha256: sha256Hex(bytes),
    size: bytes.length,
    signaturePath: `${path}.sig`,
    ...(arch ? { arch } : {}),
  };
}

async function readStaged(outDir: string, path: string): Promise<Buffer> {
  const { readFile } = await import('node:fs/promises');
  return readFile(join(outDir, path));
}

async function writeResult(outDir: string, result: PipelineResult): Promise<void> {
  await writeFileAtomically(join(outDir, 'pipeline.json'), `${JSON.stringify(result, null, 2)}\n`);
}

/**
 * A failure after the first remote write says what is left behind: no tag was moved (tags are last), and the
 * untagged documents written so far are listed for cleanup.
 */
async function guardRemote(result: PipelineResult, work: () => Promise<void>): Promise<void> {
  try {
    await work();
  } catch (err) {
    if (!(err instanceof LadingError) || err.code === 'ABORTED') throw err;
    const moved = result.registry.tagsMoved.length
      ? `tags moved: ${result.registry.tagsMoved.join(', ')}`
      : 'no tag was moved';
    const left = result.registry.written.length ? `; written untagged: ${result.registry.written.join(', ')}` : '';
    throw new LadingError(err.code, `${err.message} (${moved}${left})`, { cause: err });
  }
}

function resolved(target: ImageTarget, digest: string): ResolvedImage {
  return {
    repo: target.repo,
    name: target.name,
    reference: { registry: target.repo.registry, repository: target.repo.repository, digest },
    digest,
    byTag: false,
  };
}

/** True when the registry already holds an attachment this key signed (`check` throws VERIFY_FAILED otherwise). */
async function alreadySigned(check: () => Promise<unknown>): Promise<boolean> {
  try {
    await check();
    return true;
  } catch (err) {
    if (err instanceof LadingError && err.code === 'VERIFY_FAILED') return false;
    throw err;
  }
}

async function pushAttachments(
  registry: AttachmentRegistry,
  target: ImageTarget,
  staged: StagedImage,
  runs: PlatformRun[],
  provenance: unknown,
  key: KeyObject,
  result: PipelineResult,
  emit: (step: PipelineEvent['step'], message: string) => void,
): Promise<void> {
  const publicKey = createPublicKey(key);
  // What each digest carries: the tagged digest its provenance, each platform also its SBOMs and report.
  const work: { digest: string; predicates: { type: string; predicate: unknown }[] }[] = [];
  const topRun = runs.find((r) => r.staged.digest === staged.top.digest);
  work.push({
    digest: staged.top.digest,
    predicates: [{ type: SLSA_PROVENANCE_V1, predicate: provenance }, ...(topRun ? platformPredicates(topRun) : [])],
  });
  for (const run of runs) {
    if (run.staged.digest === staged.top.digest) continue;
    work.push({
      digest: run.staged.digest,
      predicates: [{ type: SLSA_PROVENANCE_V1, predicate: provenance }, ...platformPredicates(run)],
    });
  }
  for (const { digest, predicates } of work) {
    const image = resolved(target, digest);
    if (!(await alreadySigned(() => verifyImageSignatures(registry, image, publicKey)))) {
      emit('push', `signature of ${digest}`);
      const signed = await signImage(registry, image, key, {});
      result.registry.written.push(`${target.name}:${signed.tag}`);
    }
    for (const { type, predicate } of predicates) {
      if (await alreadySigned(() => verifyImageAttestations(registry, image, publicKey, type))) continue;
      emit('push', `${type} attestation of ${digest}`);
      const attested = await attestImage(registry, image, key, type, predicate);
      const name = `${target.name}:${attested.tag}`;
      if (!result.registry.written.includes(name)) result.registry.written.push(name);
    }
    // Every attestation the digest now carries (written by this run or an earlier one with the same input), by the
    // digest of its DSSE envelope blob: what the Action's `attestation-digests` output names.
    for (const layer of await readAttachmentLayers(registry, image.repo, digest, 'att', DSSE_MEDIA_TYPE)) {
      const predicateType = layer.descriptor.annotations?.[PREDICATE_TYPE_ANNOTATION] ?? '';
      result.registry.attestations.push({ subject: digest, predicateType, digest: layer.descriptor.digest });
    }
  }
}

function platformPredicates(run: PlatformRun): { type: string; predicate: unknown }[] {
  const json = (type: StagedArtifact['type']) => JSON.parse(run.files.get(type)!.toString('utf8')) as unknown;
  return [
    { type: PREDICATE_TYPES['cyclonedx']!, predicate: json('sbom-cyclonedx') },
    { type: PREDICATE_TYPES['spdxjson']!, predicate: json('sbom-spdx') },
    { type: PREDICATE_TYPES['lading-report']!, predicate: json('report') },
  ];
}

async function pushImage(
  registry: AttachmentRegistry,
  repo: RepositoryRef,
  staged: StagedImage,
  result: PipelineResult,
  emit: (step: PipelineEvent['step'], message: string) => void,
): Promise<void> {
  const name = formatRepository(repo);
  const sameRepo =
    staged.registryRepo &&
    staged.registryRepo.registry === repo.registry &&
    staged.registryRepo.repository === repo.repository;
  if (sameRepo) {
    emit('push', `${name}@${staged.top.digest} is already in the registry: the image itself is not pushed`);
    return;
  }
  const present = await registry.fetchManifest(repo, staged.top.digest);
  if (present) {
    emit('push', `${name}@${staged.top.digest} is already in the registry`);
    return;
  }
  for (const blob of staged.blobs) {
    emit('push', `blob ${blob.digest}`);
    await registry.pushBlob(repo, await blob.read());
  }
  for (const child of staged.children) {
    await registry.pushManifest(repo, child.digest, child.bytes, child.mediaType);
    result.registry.written.push(`${name}@${child.digest}`);
  }
  emit('push', `${name}@${staged.top.digest}, untagged`);
  await registry.pushManifest(repo, staged.top.digest, staged.top.bytes, staged.top.mediaType);
  result.registry.written.push(`${name}@${staged.top.digest}`);
}

async function upload(
  store: NonNullable<PipelinePorts['store']>,
  options: PipelineOptions,
  target: ImageTarget,
  staged: StagedImage,
  runs: PlatformRun[],
  provenance: StagedArtifact,
  key: KeyObject,
  result: PipelineResult,
  emit: (step: PipelineEvent['step'], message: string) => void,
): Promise<void> {
  const written: string[] = [];
  const kept: string[] = [];
  result.store = { location: store.describe(), written, kept };
  const withSig = async (artifact: StagedArtifact) => ({
    artifact,
    bytes: await readStaged(options.outDir, artifact.path),
    signature: await readStaged(options.outDir, artifact.signaturePath),
  });
  const provenanceFiles = await withSig(provenance);
  const digestLayout = options.storeLayout !== 'seed004';
  const seedLayout = options.storeLayout !== 'digest';
  // The immutable by-digest index is written last: when it exists, an earlier run stored everything, and a repeat
  // of the same input writes nothing at all, the per-architecture keys included.
  const topIndexKey = byDigestKeys(staged.top.digest).index;
  if (await store.exists(topIndexKey)) {
    emit('store', `${store.describe()} already holds ${staged.top.digest}`);
    kept.push(topIndexKey);
    return;
  }
  const put = async (key: string, bytes: Buffer, contentType: string, ifAbsent: boolean) => {
    if (await store.put({ key, bytes, contentType }, { ifAbsent })) written.push(key);
    else kept.push(key);
  };
  const indexes: { key: string; bytes: Buffer }[] = [];
  for (const run of runs) {
    const files = await Promise.all(run.artifacts.filter((a) => a.type !== 'sarif').map(withSig));
    const all = [...files, provenanceFiles];
    if (seedLayout) {
      const keys = seed004Keys(run.staged.arch, seedImageName(target, options.tags, run.staged.digest));
      for (const f of all) {
        const key = keys[f.artifact.type as keyof typeof keys];
        if (!key) continue;
        await put(key, f.bytes, f.artifact.mediaType, false);
        await put(`${key}.sig`, f.signature, 'text/plain', false);
      }
    }
    if (digestLayout) {
      const keys = byDigestKeys(run.staged.digest);
      const entries = [];
      for (const f of all) {
        const key = keys[f.artifact.type as keyof typeof keys];
        if (!key) continue;
        await put(key, f.bytes, f.artifact.mediaType, true);
        await put(`${key}.sig`, f.signature, 'text/plain', true);
        entries.push({
          type: f.artifact.type,
          mediaType: f.artifact.mediaType,
          sha256: f.artifact.sha256,
          size: f.artifact.size,
          key,
        });
      }
      const index = {
        digest: run.staged.digest,
        ref: `${target.name}@${run.staged.digest}`,
        platform: run.staged.platform,
        artifacts: entries,
      };
      indexes.push({ key: keys.index, bytes: Buffer.from(`${JSON.stringify(index, null, 2)}\n`) });
    }
  }
  if (digestLayout && staged.top.digest !== runs[0]?.staged.digest) {
    // The index digest (multi-platform): its provenance, and its index.json listing the platforms'.
    const keys = byDigestKeys(staged.top.digest);
    await put(keys.provenance, provenanceFiles.bytes, provenance.mediaType, true);
    await put(`${keys.provenance}.sig`, provenanceFiles.signature, 'text/plain', true);
    const index = {
      digest: staged.top.digest,
      ref: `${target.name}@${staged.top.digest}`,
      platforms: runs.map((r) => ({
        platform: r.staged.platform,
        digest: r.staged.digest,
        index: byDigestKeys(r.staged.digest).index,
      })),
      artifacts: [
        {
          type: 'provenance',
          mediaType: provenance.mediaType,
          sha256: provenance.sha256,
          size: provenance.size,
          key: keys.provenance,
        },
      ],
    };
    indexes.push({ key: keys.index, bytes: Buffer.from(`${JSON.stringify(index, null, 2)}\n`) });
  }
  // Each index.json is signed too: it is what a server pulls, and it names every other object by its sha256.
  for (const index of indexes) {
    await put(`${index.key}.sig`, Buffer.from(signBlob(key, index.bytes).toString('base64')), 'text/plain', true);
    await put(index.key, index.bytes, 'application/json', true);
  }
  emit('store', `${written.length} objects written to ${store.describe()}`);
}

/** The seed's `{image}`: `<repository basename>-<tag>`, or the digest's first 12 hex digits when untagged. */
function seedImageName(target: ImageTarget, tags: string[], digest: string): string {
  const base = target.repo.repository.split('/').pop() ?? target.repo.repository;
  return `${base}-${tags[0] ?? hexOf(digest).slice(0, 12)}`;
}

async function notify(
  ports: PipelinePorts,
  options: PipelineOptions,
  target: ImageTarget,
  staged: StagedImage,
  runs: PlatformRun[],
  provenance: Buffer,
  warnings: string[],
  emit: (step: PipelineEvent['step'], message: string) => void,
): Promise<NonNullable<PipelineResult['notify']>> {
  const notifier = ports.notifier!;
  const attempts = Math.max(1, options.notifyAttempts ?? 3);
  const firstDelay = options.notifyRetryDelayMs ?? 1000;
  const sleep = ports.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const receipts: NotifyReceipt[] = [];
  const pending = runs.map((run) => ({
    report: run.reportBytes,
    idempotencyKey: `${run.staged.digest}:${sha256Hex(run.reportBytes)}`,
    digest: run.staged.digest,
    platform: run.staged.platform,
    repository: target.name,
    tags: [...options.tags],
    ...(staged.top.digest !== run.staged.digest ? { indexDigest: staged.top.digest } : {}),
    sbom: run.files.get('sbom-cyclonedx')!,
    provenance,
  }));
  const failed: { request: (typeof pending)[number]; error: string }[] = [];
  for (const request of pending) {
    let lastError = '';
    let sent = false;
    for (let attempt = 1; attempt <= attempts && !sent; attempt++) {
      throwIfAborted(options.signal);
      try {
        emit('notify', `${notifier.describe()}: report of ${request.platform} (attempt ${attempt})`);
        receipts.push(await notifier.send(request));
        sent = true;
      } catch (err) {
        // Only our own errors are the server's or the network's answer; a bug must not be spooled as an outage.
        if (!(err instanceof LadingError) || err.code === 'USAGE' || err.code === 'ABORTED') throw err;
        lastError = err.message;
        if (attempt < attempts) await sleep(firstDelay * 2 ** (attempt - 1));
      }
    }
    if (!sent) failed.push({ request, error: lastError });
  }
  if (failed.length === 0) return { target: notifier.describe(), status: 'sent', receipts };
  const reasons = failed.map((f) => f.error).join('; ');
  if (options.notifyRequired) {
    throw new LadingError(
      'NETWORK',
      `${notifier.describe()}: the notification failed after ${attempts} attempts: ${reasons}`,
    );
  }
  // Spooled so that a later `lading push` (or the next run) can deliver exactly this report, with the same key.
  const spool = 'notify.json';
  const entries = failed.map((f) => ({
    target: notifier.describe(),
    idempotencyKey: f.request.idempotencyKey,
    digest: f.request.digest,
    platform: f.request.platform,
    report: `${runs.find((r) => r.staged.digest === f.request.digest)?.staged.arch}/report.json`,
    error: f.error,
  }));
  await writeFileAtomically(join(options.outDir, spool), `${JSON.stringify(entries, null, 2)}\n`);
  warnings.push(
    `${notifier.describe()}: the notification failed after ${attempts} attempts (${reasons}); spooled to ${spool}`,
  );
  return { target: notifier.describe(), status: 'spooled', receipts, spool };
}
