import { LadingError } from '../errors/lading-error.js';
import type { TargetInfo } from '../model/target.js';
import type { ScanWarning } from '../model/warning.js';
import type { FileMeta, WantedFiles } from './file.js';

export interface OpenOptions {
  /** `os/arch[/variant]`, default linux/amd64 for indexes. */
  platform?: string;
  /** Registry hosts (host[:port]) that may be reached over plain HTTP besides localhost/127.0.0.1. */
  insecureRegistries?: string[];
  /** Show progress on stderr (only when it is a TTY). */
  progress?: boolean;
}

/** Decides during the walk what to keep: the union of the catalogers' tests. */
export interface FileSelector {
  wants(path: string, meta: FileMeta): boolean;
  /** Returns what to keep of a wanted file (raw content when no cataloger condenses it), or null to drop it. */
  condense(path: string, content: Buffer): { content: Buffer; condensedBy?: string } | null;
  /** Paths whose lower-layer versions are kept too (`WantedFile.history`). */
  wantsHistory(path: string): boolean;
}

export interface WalkOptions {
  /** Files larger than this are not kept; a warning names them. */
  maxFileBytes: number;
}

export interface WalkResult {
  files: WantedFiles;
  warnings: ScanWarning[];
}

/** An image or root filesystem, opened: described up front, its files walked once on demand. */
export interface OpenedTarget {
  target: TargetInfo;
  walk(selector: FileSelector, options: WalkOptions): Promise<WalkResult>;
  close(): Promise<void>;
}

/** Opens any TARGET form of DESIGN.md section 4 except `sbom:` (which scan/ reads through sbom/). */
export async function openTarget(spec: string, _options: OpenOptions = {}): Promise<OpenedTarget> {
  throw new LadingError('USAGE', `cannot open ${spec}: image sources are not implemented yet`);
}
