/** `openssl-3.0.7-27.el9.src.rpm` → name `openssl`, version `3.0.7-27.el9`; undefined when it is not that shape. */
export function parseSourceRpm(file: string): { name: string; version: string } | undefined {
  const base = file.replace(/\.(no)?src\.rpm$/, '');
  if (base === file) return undefined;
  const releaseDash = base.lastIndexOf('-');
  const versionDash = releaseDash > 0 ? base.lastIndexOf('-', releaseDash - 1) : -1;
  if (versionDash <= 0) return undefined;
  return { name: base.slice(0, versionDash), version: base.slice(versionDash + 1) };
}
