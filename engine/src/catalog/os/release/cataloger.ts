import type { Cataloger } from '../../cataloger.js';
import { WarningSink } from '../warnings.js';
import { APK_REPOSITORIES, DISTROLESS_DPKG_DIR, detectOs, OS_RELEASE_PATHS, RELEASE_FILE_PATHS } from './detect.js';

const WANTED = new Set<string>([...OS_RELEASE_PATHS, ...RELEASE_FILE_PATHS, APK_REPOSITORIES]);

/** OS detection: runs first; its OsInfo is the other catalogers' `env.os`. */
export const osReleaseCataloger: Cataloger = {
  id: 'os-release',
  version: 1,
  // Distroless status.d entries only prove the OS is Debian-based when no release file says more.
  wants: (path) => WANTED.has(path) || path.startsWith(DISTROLESS_DPKG_DIR),
  async catalog(files) {
    const sink = new WarningSink('os-release');
    const os = detectOs(files, sink);
    return os
      ? { packages: [], warnings: sink.list, notes: sink.notes, os }
      : { packages: [], warnings: sink.list, notes: sink.notes };
  },
};
