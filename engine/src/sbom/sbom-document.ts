import type { OsInfo } from '../model/os.js';
import type { TargetInfo } from '../model/target.js';
import type { SbomComponent } from './sbom-component.js';

/** What a reader takes from a CycloneDX or SPDX document, before it becomes an inventory. */
export interface SbomDocument {
  /** `CycloneDX 1.6`, `SPDX-2.3`: for messages. */
  format: string;
  components: SbomComponent[];
  os?: OsInfo;
  /** ref → refs it depends on. */
  dependsOn: Map<string, string[]>;
  /** Facts about the described image: digest, image id, tags, layers. */
  target: Partial<TargetInfo>;
}
