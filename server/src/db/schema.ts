// The server's tables as Kysely sees them: one interface for SQLite and PostgreSQL (SERVER.md section 1).
// Portability rules (see dialect.ts): integer surrogate keys, times as epoch milliseconds, JSON stored as text
// (`Json` = an encoded string, read back with decodeJson), flags as 0/1 integers. `Generated` marks columns the
// database fills (identity keys, defaults).
import type { ColumnType, Generated } from 'kysely';

/** Epoch milliseconds. */
export type Millis = number;
/** A JSON document stored encoded (text on SQLite, jsonb on PostgreSQL); decode with decodeJson. */
export type Json = string;
/** 0 or 1 (smallint on both engines: SQLite has no boolean type). */
export type Flag = number;
/** A column the database fills on insert and that may also be written. */
type Defaulted<T> = ColumnType<T, T | undefined, T>;

// ---- identity and access ----
export interface UsersTable {
  id: Generated<number>;
  login: string;
  display_name: string;
  email: string;
  password_hash: string | null;
  oidc_issuer: string | null;
  oidc_subject: string | null;
  is_admin: Defaulted<Flag>;
  disabled_at: Millis | null;
  created_at: Millis;
}
export interface TeamsTable {
  id: Generated<number>;
  name: string;
  created_at: Millis;
}
export interface TeamMembersTable {
  team_id: number;
  user_id: number;
  role: 'viewer' | 'triager' | 'maintainer';
  created_at: Millis;
}
export interface TeamGrantsTable {
  team_id: number;
  repository_pattern: string;
  created_at: Millis;
}
export interface ApiTokensTable {
  id: Generated<number>;
  public_id: string;
  secret_hmac: string;
  name: string;
  owner_team_id: number | null;
  owner_user_id: number | null;
  /** JSON array of 'ingest' | 'read' | 'triage' | 'admin'. */
  scopes: Json;
  repository_pattern: string;
  expires_at: Millis;
  created_by: number | null;
  last_used_at: Millis | null;
  last_used_ip: string | null;
  revoked_at: Millis | null;
  created_at: Millis;
}
export interface SessionsTable {
  id_hash: string;
  user_id: number;
  csrf_hash: string;
  expires_at: Millis;
  idle_expires_at: Millis;
  last_seen_at: Millis;
  ip: string | null;
  user_agent: string | null;
  created_at: Millis;
}
export interface SettingsTable {
  key: string;
  value: Json;
  updated_at: Millis;
  created_at: Millis;
}
export interface RegistryCredsTable {
  host: string;
  username: string;
  /** AES-256-GCM ciphertext (base64) of the password or token, with the key id it was sealed with. */
  secret_enc: string;
  key_id: string;
  created_at: Millis;
  updated_at: Millis;
}

// ---- images ----
export interface RepositoriesTable {
  id: Generated<number>;
  public_id: string;
  name: string;
  name_lc: string;
  team_id: number | null;
  source_repo: string | null;
  settings: Defaulted<Json>;
  archived_at: Millis | null;
  purge_after: Millis | null;
  created_at: Millis;
}
export interface TagsTable {
  id: Generated<number>;
  repository_id: number;
  name: string;
  current_image_id: number | null;
  moved_at: Millis;
  created_at: Millis;
}
export interface TagHistoryTable {
  tag_id: number;
  image_id: number;
  from_at: Millis;
  to_at: Millis | null;
  source: 'ci' | 'registry-sync' | 'manual';
  created_at: Millis;
}
export type ImageState = 'active' | 'quarantined' | 'retired';
export type EvidenceState = 'verified' | 'partial' | 'failed' | 'none';
export interface ImagesTable {
  id: Generated<number>;
  digest: string;
  index_digest: string | null;
  platform: string;
  os_ecosystem: string | null;
  /** 0010: the inventory's OS release as the matcher reads it (JSON; `null` for none). */
  match_os: string | null;
  config_digest: string | null;
  image_created_at: Millis | null;
  first_ingested_at: Millis;
  last_ingested_at: Millis;
  state: Defaulted<ImageState>;
  inventory_artifact_id: number | null;
  analyzed_generation: number | null;
  critical: Defaulted<number>;
  high: Defaulted<number>;
  medium: Defaulted<number>;
  low: Defaulted<number>;
  unknown: Defaulted<number>;
  suppressed: Defaulted<number>;
  packages: Defaulted<number>;
  has_kev: Defaulted<Flag>;
  risk_index: Defaulted<number>;
  evidence_state: Defaulted<EvidenceState>;
  evidence_score: Defaulted<number>;
  evidence_max: Defaulted<number>;
  created_at: Millis;
}
export interface RepositoryImagesTable {
  repository_id: number;
  image_id: number;
  track: string;
  first_seen_at: Millis;
  is_current: Defaulted<Flag>;
  created_at: Millis;
}
export interface LayersTable {
  id: Generated<number>;
  diff_id: string;
  digest: string | null;
  size: number | null;
  created_at: Millis;
}
export interface ImageLayersTable {
  image_id: number;
  position: number;
  layer_id: number;
  created_by: string | null;
  created_at: Millis;
}

// ---- evidence ----
export interface ArtifactsTable {
  id: Generated<number>;
  sha256: string;
  kind: string;
  media_type: string;
  size: number;
  storage_key: string;
  first_job_id: number | null;
  created_at: Millis;
}
export interface ImageArtifactsTable {
  image_id: number;
  artifact_id: number;
  role: 'inventory' | 'report' | 'provenance' | 'attestation' | 'signature' | 'vex';
  predicate_type: string | null;
  job_id: number | null;
  created_at: Millis;
}
export interface BuildsTable {
  id: Generated<number>;
  image_id: number;
  provenance_artifact_id: number;
  builder_id: string | null;
  build_type: string | null;
  source_repo: string | null;
  source_commit: string | null;
  source_ref: string | null;
  workflow_path: string | null;
  run_id: string | null;
  run_url: string | null;
  started_at: Millis | null;
  finished_at: Millis | null;
  created_at: Millis;
}
export interface VerificationsTable {
  image_id: number;
  check: string;
  result: 'pass' | 'fail' | 'absent' | 'skipped';
  artifact_id: number | null;
  key_id: string | null;
  identity: string | null;
  detail: Json;
  policy_hash: string;
  verified_at: Millis;
  created_at: Millis;
}
export interface TrustedKeysTable {
  id: Generated<number>;
  public_id: string;
  repository_pattern: string;
  algorithm: string;
  public_key_pem: string;
  fingerprint: string;
  keyless_issuer: string | null;
  keyless_identity: string | null;
  revoked_at: Millis | null;
  created_at: Millis;
}

// ---- inventory ----
export interface PackagesTable {
  id: Generated<number>;
  purl: string;
  type: string;
  name: string;
  name_lc: string;
  version: string;
  ecosystem: string | null;
  match_name: string | null;
  match_version: string | null;
  /** 0010: source and metadata as the matcher reads them (canonical JSON), `*` when inventories disagreed. */
  match_extra: string | null;
  licenses: Defaulted<Json>;
  created_at: Millis;
}
export interface PackageOccurrencesTable {
  image_id: number;
  package_id: number;
  layer_id: number | null;
  path: string;
  found_by: string;
  created_at: Millis;
}

// ---- vulnerability data, findings, exposures, exceptions ----
export interface VulnerabilitiesTable {
  id: Generated<number>;
  vuln_id: string;
  aliases: Defaulted<Json>;
  summary: string | null;
  severity: string;
  cvss: Json | null;
  epss: number | null;
  kev: Defaulted<Flag>;
  kev_added_at: Millis | null;
  published_at: Millis | null;
  modified_at: Millis | null;
  withdrawn_at: Millis | null;
  created_at: Millis;
}
export interface VulnAliasesTable {
  alias: string;
  vulnerability_id: number;
  created_at: Millis;
}
export interface DbGenerationsTable {
  id: Generated<number>;
  finished_at: Millis | null;
  matcher_version: string;
  changed_count: Defaulted<number>;
  snapshot_key: string | null;
  state: string;
  created_at: Millis;
}
export interface DbChangesTable {
  generation_id: number;
  ecosystem: string;
  package_name: string;
  created_at: Millis;
}
export interface FindingsTable {
  id: Generated<number>;
  image_id: number;
  package_id: number;
  vulnerability_id: number;
  severity: string;
  fixed_version: string | null;
  status: 'open' | 'suppressed' | 'resolved';
  exception_id: number | null;
  first_seen_at: Millis;
  last_seen_at: Millis;
  resolved_at: Millis | null;
  resolution: 'retracted' | 'retired' | null;
  reopened_count: Defaulted<number>;
  detected_by: 'ingest' | 'reanalysis';
  created_at: Millis;
}
export interface ExposuresTable {
  id: Generated<number>;
  repository_id: number;
  track: string;
  vulnerability_id: number;
  package_name: string;
  severity: string;
  state: 'open' | 'resolved';
  opened_at: Millis;
  opened_image_id: number;
  resolved_at: Millis | null;
  resolved_image_id: number | null;
  resolved_build_id: number | null;
  package_from: string;
  package_to: string | null;
  reopened_count: Defaulted<number>;
  cve_published_at: Millis | null;
  fix_first_seen_at: Millis | null;
  created_at: Millis;
}
/** One open → resolved run of an exposure (migration 0003); the open one has no resolved_at. */
export interface ExposureEpisodesTable {
  id: Generated<number>;
  exposure_id: number;
  severity: string;
  opened_at: Millis;
  opened_image_id: number;
  resolved_at: Millis | null;
  resolved_image_id: number | null;
  resolved_build_id: number | null;
  package_from: string;
  package_to: string | null;
  /** 1 when the exposure had been resolved before: the vulnerable version came back. */
  regression: Defaulted<Flag>;
  fix_first_seen_at: Millis | null;
  created_at: Millis;
}
export interface MetricsDailyTable {
  day: Millis;
  scope: string;
  critical: number;
  high: number;
  medium: number;
  low: number;
  unknown: number;
  suppressed: number;
  images: number;
  packages: number;
  new_findings: number;
  resolved_findings: number;
  risk_index: number;
  threshold_fail_images: number;
  created_at: Millis;
}
export interface SummariesTable {
  id: Generated<number>;
  kind: 'weekly';
  scope: string;
  period_start: Millis;
  version: number;
  document: string;
  sha256: string;
  generated_at: Millis;
  created_at: Millis;
}
export interface ExceptionsTable {
  id: Generated<number>;
  public_id: string;
  vulnerability_id: number;
  repository_id: number | null;
  image_digest: string | null;
  package_pattern: string | null;
  status: 'not_affected' | 'accepted_risk' | 'false_positive' | 'fixed';
  justification: string | null;
  reason: string;
  owner_user_id: number | null;
  created_by: number | null;
  expires_at: Millis;
  revoked_at: Millis | null;
  source: 'manual' | 'vex';
  created_at: Millis;
}

// ---- audit, jobs, nodes ----
export interface EventsTable {
  id: Generated<number>;
  at: Millis;
  type: string;
  actor_kind: 'user' | 'token' | 'system';
  actor_id: number | null;
  repository_id: number | null;
  image_id: number | null;
  vulnerability_id: number | null;
  severity: string | null;
  request_id: string | null;
  data: Defaulted<Json>;
  created_at: Millis;
}
export type JobState = 'queued' | 'running' | 'succeeded' | 'failed' | 'canceled';
export interface JobsTable {
  id: Generated<number>;
  public_id: string;
  kind: string;
  state: JobState;
  priority: Defaulted<number>;
  dedupe_key: string | null;
  payload: Defaulted<Json>;
  steps: Defaulted<Json>;
  result: Json | null;
  error: Json | null;
  attempts: Defaulted<number>;
  max_attempts: Defaulted<number>;
  run_at: Millis;
  started_at: Millis | null;
  finished_at: Millis | null;
  locked_by: string | null;
  lease_until: Millis | null;
  parent_id: number | null;
  pending_children: Defaulted<number>;
  created_by: string | null;
  created_at: Millis;
}
export interface NodesTable {
  id: string;
  role: 'api' | 'worker' | 'all';
  version: string;
  heartbeat_at: Millis;
  /** JSON list of the node's graphile-worker ids (PostgreSQL workers; 0008). */
  graphile_worker_ids: string | null;
  created_at: Millis;
}

// ---- notifications (0005) ----
export type NotificationChannel = 'webhook' | 'slack' | 'teams' | 'email';
export type NotificationState = 'pending' | 'sending' | 'sent' | 'failed' | 'dead' | 'unknown';
export interface NotificationRulesTable {
  id: Generated<number>;
  name: string;
  channel: NotificationChannel;
  target_enc: string;
  secret_enc: string | null;
  filter: Json;
  enabled: Defaulted<Flag>;
  created_by: number | null;
  updated_at: Millis;
  created_at: Millis;
}
export interface NotificationsTable {
  id: Generated<number>;
  rule_id: number;
  event_id: number | null;
  dedupe_key: string;
  state: Defaulted<NotificationState>;
  attempts: Defaulted<number>;
  next_attempt_at: Millis;
  last_error: string | null;
  payload: Json;
  sent_at: Millis | null;
  created_at: Millis;
}

// ---- GitHub issues per image (0006) ----
export interface GithubIssuesTable {
  id: Generated<number>;
  repository_id: number;
  track: string;
  gh_repo: string;
  number: number | null;
  state: 'open' | 'closed' | 'none';
  closed_at: Millis | null;
  last_set_hash: string | null;
  last_digest: string | null;
  updated_at: Millis;
  created_at: Millis;
}
export interface GithubPostsTable {
  issue_id: number;
  image_digest: string;
  set_hash: string;
  comment_id: number | null;
  action: string;
  created_at: Millis;
}

// ---- rebuild triggers (0007) ----
export interface RebuildTargetsTable {
  id: Generated<number>;
  repository_id: number;
  kind: 'github-dispatch' | 'webhook';
  target_enc: string;
  secret_enc: string | null;
  enabled: Defaulted<Flag>;
  updated_at: Millis;
  created_at: Millis;
}
export interface RepositoryWatchesTable {
  id: Generated<number>;
  repository_id: number;
  interval_seconds: number;
  next_poll_at: Millis;
  last_polled_at: Millis | null;
  last_error: string | null;
  updated_at: Millis;
  created_at: Millis;
}
export interface RegistryTagsTable {
  id: Generated<number>;
  repository_id: number;
  tag: string;
  digest: string;
  observed_at: Millis;
  created_at: Millis;
}
export interface RegistryPullsTable {
  id: Generated<number>;
  repository_id: number;
  digest: string;
  state: 'queued' | 'ingested' | 'refused';
  job_id: number | null;
  attempts: Defaulted<number>;
  last_error: string | null;
  updated_at: Millis;
  created_at: Millis;
}
export interface RebuildTriggersTable {
  id: Generated<number>;
  repository_id: number;
  image_digest: string;
  set_hash: string;
  state: Defaulted<'pending' | 'sending' | 'sent' | 'failed' | 'unknown'>;
  payload: Json;
  last_error: string | null;
  sent_at: Millis | null;
  created_at: Millis;
}

export interface Database {
  users: UsersTable;
  teams: TeamsTable;
  team_members: TeamMembersTable;
  team_grants: TeamGrantsTable;
  api_tokens: ApiTokensTable;
  sessions: SessionsTable;
  settings: SettingsTable;
  registry_creds: RegistryCredsTable;
  repositories: RepositoriesTable;
  tags: TagsTable;
  tag_history: TagHistoryTable;
  images: ImagesTable;
  repository_images: RepositoryImagesTable;
  layers: LayersTable;
  image_layers: ImageLayersTable;
  artifacts: ArtifactsTable;
  image_artifacts: ImageArtifactsTable;
  builds: BuildsTable;
  verifications: VerificationsTable;
  trusted_keys: TrustedKeysTable;
  packages: PackagesTable;
  package_occurrences: PackageOccurrencesTable;
  vulnerabilities: VulnerabilitiesTable;
  vuln_aliases: VulnAliasesTable;
  db_generations: DbGenerationsTable;
  db_changes: DbChangesTable;
  findings: FindingsTable;
  exposures: ExposuresTable;
  exposure_episodes: ExposureEpisodesTable;
  metrics_daily: MetricsDailyTable;
  summaries: SummariesTable;
  exceptions: ExceptionsTable;
  events: EventsTable;
  jobs: JobsTable;
  nodes: NodesTable;
  notification_rules: NotificationRulesTable;
  notifications: NotificationsTable;
  github_issues: GithubIssuesTable;
  github_posts: GithubPostsTable;
  rebuild_targets: RebuildTargetsTable;
  rebuild_triggers: RebuildTriggersTable;
  repository_watches: RepositoryWatchesTable;
  registry_tags: RegistryTagsTable;
  registry_pulls: RegistryPullsTable;
}
