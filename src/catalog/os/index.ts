import type { Cataloger } from '../cataloger.js';

/** OS detection and OS package catalogers; the first entries detect the OS. */
export const osCatalogers: readonly Cataloger[] = [];
