import type { Cataloger } from '../cataloger.js';
import { apkCataloger } from './apk/cataloger.js';
import { dpkgCataloger } from './dpkg/cataloger.js';
import { osReleaseCataloger } from './release/cataloger.js';
import { rpmCataloger } from './rpm/cataloger.js';

/**
 * OS detection and OS package catalogers; the first entry detects the OS (`run.ts` runs it first and hands its
 * OsInfo to the others as `env.os`). Conventions shared by the three package catalogers:
 * - `version` is what the package manager compares: dpkg and rpm versions carry the epoch (`1:2.38-5`,
 *   `3:1.2-4.el9`); the rpm purl carries it as the `epoch` qualifier instead, per the purl spec.
 * - `source` is the source package (dpkg `Source:`, apk origin, rpm SOURCERPM); `source.version` only where the
 *   database states one (dpkg `Source: x (v)`, SOURCERPM).
 * - Each package's location is its database file, attributed to the layer that installed or last changed it.
 * - `ownedFiles` lists the files the database says the package owns; `ownership.ts` uses them, reports drop them.
 */
export const osCatalogers: readonly Cataloger[] = [osReleaseCataloger, dpkgCataloger, apkCataloger, rpmCataloger];
