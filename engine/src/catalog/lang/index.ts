import type { Cataloger } from '../cataloger.js';
import { binaryCataloger } from './binary/cataloger.js';
import { dotnetCataloger } from './dotnet/cataloger.js';
import { javaArchiveCataloger } from './java/cataloger.js';
import { npmCataloger } from './npm/cataloger.js';
import { yarnPnpCataloger } from './npm/yarn-pnp.js';
import { phpComposerCataloger } from './php/cataloger.js';
import { pythonCataloger } from './python/cataloger.js';
import { rubyCataloger } from './ruby/cataloger.js';

/**
 * Language ecosystem catalogers. Go and Rust (cargo-auditable) binaries share the `binary` cataloger, so that
 * each executable is condensed to its build facts during the walk (see binary/cataloger.ts).
 */
export const languageCatalogers: readonly Cataloger[] = [
  npmCataloger,
  yarnPnpCataloger,
  pythonCataloger,
  javaArchiveCataloger,
  binaryCataloger,
  rubyCataloger,
  phpComposerCataloger,
  dotnetCataloger,
];
