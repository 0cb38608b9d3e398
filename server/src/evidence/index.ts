// The evidence scorecard (SERVER.md section 7): pure judgement of an image's SBOMs, reports, attestations and
// signatures against a repository's verification policy and trusted keys.
export { buildFactsOf } from './build-facts.js';
export { evaluateEvidence } from './evaluate.js';
export {
  type BuildFacts,
  CHECK_NAMES,
  type CheckName,
  type CheckResult,
  type EvidenceArtifact,
  type EvidenceCheck,
  type EvidenceInput,
  type EvidenceState,
  type Scorecard,
  type TrustedKey,
  type VerificationPolicy,
} from './types.js';
