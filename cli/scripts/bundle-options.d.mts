import type { BuildOptions } from 'esbuild';

export declare const CLI_ROOT: string;
export declare const BUNDLE_OPTIONS: BuildOptions & { outdir: string };
