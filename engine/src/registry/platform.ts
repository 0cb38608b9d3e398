// Moved to oci/ (one platform rule for every source); re-exported so `@lading/engine/registry` keeps its API.
import type { Platform } from '../oci/platform.js';

export {
  DEFAULT_PLATFORM,
  formatPlatform,
  parsePlatform,
  platformMatches,
  rankByPlatform,
} from '../oci/platform.js';

/** A platform as asked for (`parsePlatform`'s result). */
export type PlatformWanted = Pick<Platform, 'os' | 'architecture' | 'variant'>;
