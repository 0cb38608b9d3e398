import type { Cataloger } from '../cataloger.js';

/** Language ecosystem catalogers. */
export const languageCatalogers: readonly Cataloger[] = [];
