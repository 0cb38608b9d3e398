export type TargetKind = 'image' | 'rootfs' | 'sbom';

export interface LayerInfo {
  /** sha256 of the uncompressed tar. */
  diffId: string;
  /** Digest of the blob as stored (compressed), where the source has one. */
  digest?: string;
  /** Size of the blob as stored. */
  size?: number;
  mediaType?: string;
  /** History `created_by` of the step that made the layer. */
  createdBy?: string;
}

export interface ImageConfigSummary {
  user?: string;
  env: string[];
  entrypoint: string[];
  cmd: string[];
  labels: Record<string, string>;
  workingDir?: string;
  exposedPorts?: string[];
  history?: { created?: string; createdBy?: string; emptyLayer?: boolean; comment?: string }[];
  created?: string;
  /** The Docker `Healthcheck.Test` command, where the config has one (`["NONE"]`: disabled). */
  healthcheck?: string[];
}

/** The report's `target` block (docs/report.md, "target"). */
export interface TargetInfo {
  kind: TargetKind;
  /** What the user asked for, normalized (`docker.io/library/alpine:3.19`, `docker-archive:/tmp/x.tar`). */
  ref: string;
  /** Manifest digest (image targets). */
  digest?: string;
  /** Config digest. */
  imageId?: string;
  platform?: string;
  /** Repository tags and digests known for the image (`name:tag`, `name@sha256:…`). */
  repoTags?: string[];
  layers: LayerInfo[];
  config?: ImageConfigSummary;
}
