import type { Cataloger } from './cataloger.js';
import { languageCatalogers } from './lang/index.js';
import { osCatalogers } from './os/index.js';

/** Every cataloger Lading runs, OS detection and OS packages first. */
export const CATALOGERS: readonly Cataloger[] = [...osCatalogers, ...languageCatalogers];
