// The public API of checks/: what other packages may import as `@lading/engine/checks`. The image hardening checks
// (IMG-001…, docs/report.md "misconfigurations"): their definitions, the metadata-only cataloger that lets them ride
// the catalog walk, and the function that runs them on a walked target.

export { accountNames, imageAccountsCataloger, missingAccount } from './accounts.js';
export { maskSecret } from './config-secrets.js';
export {
  type CheckDefinition,
  checkDefinition,
  IMAGE_CHECK_IDS,
  IMAGE_CHECKS,
  type ImageCheckId,
} from './definitions.js';
export { type FileCheckKind, fileCheckKinds, imageCheckFilesCataloger } from './files.js';
export { type ImageCheckOptions, runImageChecks } from './run.js';

import { imageAccountsCataloger } from './accounts.js';
import { imageCheckFilesCataloger } from './files.js';

/** The catalogers the image checks add to the walk (`scan` appends them unless checks are turned off). */
export const CHECK_CATALOGERS = [imageCheckFilesCataloger, imageAccountsCataloger] as const;
