import type { KeyObject } from 'node:crypto';
import type { BuildContext } from '../attest/ci-environment.js';
import type { AttachmentRegistry } from '../attest/registry-port.js';
import type { Severity } from '../model/finding.js';
import type { Report } from '../model/report.js';
import type { PatchedPackage } from '../patch/types.js';
import type { Policy } from '../policy/policy-file.js';

/** Which object-storage keys are written: the seed's per-architecture names, the immutable by-digest ones, or both. */
export type StoreLayout = 'seed004' | 'digest' | 'both';

/** Everything one run is asked to do: plain data, read and parsed by the caller (the CLI, the GitHub Action). */
export interface PipelineOptions {
  /** `oci:DIR`, `oci-archive:FILE`, `docker-archive:FILE` or `registry:REF@sha256:…`. */
  source: string;
  /** `REGISTRY/REPOSITORY` the image is pushed to (no tag, no digest). */
  image: string;
  /** Tags moved to the digest, last. */
  tags: string[];
  /** `os/arch[/variant]` or `all` (every platform of an index; the default). */
  platform: string;
  failOn?: Severity;
  policy?: Policy;
  baseline?: Report;
  baselineSeverity?: Severity;
  /** Write to the registry (signatures, attestations, image, tags). Without it the run stages and signs locally. */
  push: boolean;
  /** Read, scan, sign and stage in `outDir`; write nothing remote (no registry, store or notification). */
  dryRun: boolean;
  /**
   * `plan`: write the plan of the package updates that fix the findings (`@lading/engine/patch`); `apply`: apply
   * those that need no maintainer scripts as one new layer and go on with the patched image. One platform only.
   */
  patch?: 'off' | 'plan' | 'apply';
  /** A package repository used instead of the image's own sources when patching. */
  patchMirror?: string;
  /** Flatten the image to one layer (`@lading/engine/flatten`), after patching; the input image is kept in the provenance. */
  flatten?: boolean;
  /** How registry SOURCEs are reached when patching or flattening reads them. */
  registryAccess?: { insecureRegistries?: string[]; dockerConfigPath?: string };
  /** Staging directory: reports, SBOMs, provenance, `.sig` files, `pipeline.json`, the notification spool. */
  outDir: string;
  storeLayout: StoreLayout;
  /** Fail (exit 3) when the notification cannot be delivered, instead of spooling it with a warning. */
  notifyRequired: boolean;
  /** When the run started: the provenance's startedOn and the verdict's `now` (the engine reads no clock). */
  startedOn: Date;
  /** SOURCE_DATE_EPOCH in seconds, for reproducible SBOMs. */
  sourceDateEpoch?: number;
  /** Delivery attempts of the notification before it is spooled (default 3). */
  notifyAttempts?: number;
  /** Milliseconds before the first retry, doubled each time (default 1000). */
  notifyRetryDelayMs?: number;
  signal?: AbortSignal;
  onEvent?: (event: PipelineEvent) => void;
}

export type PipelineStep =
  | 'read'
  | 'patch'
  | 'flatten'
  | 'scan'
  | 'gate'
  | 'sbom'
  | 'provenance'
  | 'sign'
  | 'push'
  | 'store'
  | 'tag'
  | 'notify';

export interface PipelineEvent {
  step: PipelineStep;
  message: string;
}

/** One object written to storage; `ifAbsent` keys are immutable (by-digest): an existing one is left as it is. */
export interface StoredObject {
  key: string;
  bytes: Buffer;
  contentType: string;
}

/** The object store, as the pipeline needs it (the CLI adapts `@lading/engine/objects` to it). */
export interface ArtifactStore {
  /** Where it writes, for messages and the result (`file:///…`, `s3://bucket/prefix`). */
  describe(): string;
  exists(key: string): Promise<boolean>;
  /** Writes the object; with `ifAbsent` an existing key is kept and false returned. */
  put(object: StoredObject, options: { ifAbsent: boolean }): Promise<boolean>;
}

/** The report sent to the server (`lading push` semantics). */
export interface NotifyRequest {
  /** The report JSON as written to `--out`. */
  report: Buffer;
  /** `<digest>:<sha256(report)>`: a retry or a second run of the same result is one ingest. */
  idempotencyKey: string;
  /** The platform image's manifest digest. */
  digest: string;
  platform: string;
  /** `REGISTRY/REPOSITORY`. */
  repository: string;
  tags: string[];
  /** The index the platform image belongs to (multi-platform images). */
  indexDigest?: string;
  /** The CycloneDX SBOM as staged. */
  sbom: Buffer;
  /** The provenance as a signed DSSE envelope (`provenance.dsse.json` in --out): the server links it to the image. */
  provenance: Buffer;
}

export interface NotifyReceipt {
  /** What the server said, e.g. the job URL of a 202. */
  location?: string;
  status: number;
}

export interface Notifier {
  describe(): string;
  send(request: NotifyRequest): Promise<NotifyReceipt>;
}

/** Side effects the pipeline uses, all passed in: the engine reads no environment and no clock of its own. */
export interface PipelinePorts {
  /** Scans one TARGET (a platform's image) and returns the report before any verdict (`scan()` with the caller's options). */
  scan(target: string, options: { signal?: AbortSignal }): Promise<Report>;
  /** Registry access (resolving `registry:` sources, pushing). Required with `push` or a registry SOURCE. */
  registry?: AttachmentRegistry;
  /** The signing key (`loadSigningKey`). */
  signingKey: KeyObject;
  /** The CI facts for the provenance (`detectBuildContext`). */
  buildContext: BuildContext;
  /** The time the provenance's finishedOn is read from. */
  clock(): Date;
  store?: ArtifactStore;
  notifier?: Notifier;
  /** Waits between notification attempts (tests pass one that does not wait). */
  sleep?(ms: number): Promise<void>;
}

/** A file staged in `--out`, with its detached signature. */
export interface StagedArtifact {
  type: 'report' | 'sarif' | 'sbom-cyclonedx' | 'sbom-spdx' | 'provenance';
  /** Path relative to `--out`. */
  path: string;
  mediaType: string;
  sha256: string;
  size: number;
  /** `path` + `.sig`: base64 DER signature over the file's bytes (`cosign sign-blob` format). */
  signaturePath: string;
  /** The platform's arch label, or undefined for the whole image (provenance). */
  arch?: string;
}

export interface PipelinePlatformResult {
  platform: string;
  arch: string;
  digest: string;
  pass: boolean;
  /** Why the gate failed (empty when it passed or no gate was asked). */
  reasons: string[];
  findings: number;
}

export interface PipelineResult {
  /** `passed`: everything done; `gate-failed`: stopped after the scan, nothing remote written (exit 1). */
  status: 'passed' | 'gate-failed';
  dryRun: boolean;
  source: string;
  /** The digest of the input image as read (before patching and flattening). */
  inputDigest: string;
  /** What `--patch` did: the plan's file in --out, the packages replaced and the patched image's digest. */
  patch?: { mode: 'plan' | 'apply'; plan: string; patched: PatchedPackage[]; digest?: string };
  /** The flattened image's digest, when `--flatten` made one. */
  flattenedDigest?: string;
  image: string;
  /** The digest the tags point at (index or manifest). */
  digest: string;
  tags: string[];
  platforms: PipelinePlatformResult[];
  artifacts: StagedArtifact[];
  registry: {
    /** Signatures, attestations and documents written (false: dry run, no --push, gate failed, or all present). */
    written: string[];
    /** Tags moved; those already at the digest are in `unchanged`. */
    tagsMoved: string[];
    unchanged: string[];
    /** The attestations each published digest carries: the DSSE envelope blobs' digests (`.att` layers). */
    attestations: { subject: string; predicateType: string; digest: string }[];
  };
  store?: { location: string; written: string[]; kept: string[] };
  notify?: { target: string; status: 'sent' | 'spooled'; receipts: NotifyReceipt[]; spool?: string };
  warnings: string[];
}
