// Types for examples/build.mjs (plain JavaScript, so that `node examples/build.mjs` needs nothing installed), for the
// server's demo fleet, which builds variants of the example image.
export interface ExampleImageOptions {
  /** A file's path in the image → a function of its text giving the new text (a package bumped). */
  replace?: Record<string, (text: string) => string>;
  /** Paths left out (with everything under them). */
  omit?: readonly string[];
  tag?: string;
  /** The image configuration's `created` (RFC 3339). */
  created?: string;
}
export function buildExampleImage(options?: ExampleImageOptions): Buffer;
/** Writes the image as an OCI image layout in `dir`; answers its manifest digest. */
export function writeExampleOciLayout(dir: string, options?: ExampleImageOptions): string;
