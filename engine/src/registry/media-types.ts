// Moved to oci/ (one model of OCI documents for every source); re-exported so `@lading/engine/registry` keeps its API.
export {
  IMAGE_MANIFEST_TYPES,
  INDEX_TYPES,
  isImageManifestType,
  isIndexType,
  isSchema1Type,
  MANIFEST_ACCEPT,
  MEDIA_TYPES,
} from '../oci/media-types.js';
