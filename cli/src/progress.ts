import type { ScanProgress } from '@lading/engine/image';

const MIB = 1024 * 1024;

/**
 * The progress line of `scan` and `sbom`: the engine reports plain events (`OpenOptions.onProgress`), this draws them
 * on one stderr line, redrawn in place, and clears it when the walk ends. Undefined (nothing drawn) when stderr is
 * not a terminal or the user asked for quiet.
 */
export function progressLine(
  quiet: boolean | undefined,
  stderr: NodeJS.WriteStream = process.stderr,
): ((progress: ScanProgress) => void) | undefined {
  if (quiet || stderr.isTTY !== true) return undefined;
  return (p) => {
    if (p.phase === 'done') stderr.write('\r\x1b[K');
    else if (p.phase === 'reading') stderr.write(`\r\x1b[K${describeProgress(p)}`);
  };
}

/** `reading layers: 2/5 done, 3.1 of 12.0 MiB downloaded, 40.2 MiB read` (the download part for registry images). */
export function describeProgress(p: ScanProgress): string {
  const done = p.layers === undefined ? `${p.layersDone}` : `${p.layersDone}/${p.layers}`;
  return `reading layers: ${done} done, ${downloadWords(p)}${mib(p.bytesRead)} MiB read`;
}

function downloadWords(p: ScanProgress): string {
  if (p.bytesToDownload === 0 && p.bytesDownloaded === 0) return '';
  const of = p.bytesToDownload > 0 ? ` of ${mib(p.bytesToDownload)}` : '';
  return `${mib(p.bytesDownloaded)}${of} MiB downloaded, `;
}

function mib(n: number): string {
  return (n / MIB).toFixed(1);
}
