// 0001: SERVER.md section 1's tables for identity and access, images, evidence, inventory, vulnerability data,
// findings, exposures, exceptions, events, jobs, settings and nodes. Later features add tables in new migrations
// (forward-only, expand/contract). Written once for both engines through dialect.ts; only the column types differ.
//
// Each column is one line of a small grammar, so the table reads like the design's table:
//   'name kind[?] [=default] [-> table.column [cascade]]'
// kind: id | bigint | int | text | json | flag | real; `?` = nullable; every table also gets `created_at bigint`.
import { type Kysely, type Migration, sql } from 'kysely';
import { columnTypes, type SqlDialect } from '../dialect.js';

interface TableSpec {
  readonly name: string;
  readonly columns: readonly string[];
  /** Composite primary key (tables whose key is not an `id` column). */
  readonly primaryKey?: readonly string[];
  readonly unique?: readonly (readonly string[])[];
}
interface IndexSpec {
  readonly name: string;
  readonly table: string;
  readonly columns: readonly string[];
  readonly unique?: boolean;
  /** A partial index's predicate, raw SQL valid on both engines. */
  readonly where?: string;
}

export const TABLES: readonly TableSpec[] = [
  // identity and access
  {
    name: 'users',
    columns: [
      'id id',
      'login text',
      'display_name text',
      'email text',
      'password_hash text?',
      'oidc_issuer text?',
      'oidc_subject text?',
      'is_admin flag =0',
      'disabled_at bigint?',
    ],
    unique: [['login'], ['oidc_issuer', 'oidc_subject']],
  },
  { name: 'teams', columns: ['id id', 'name text'], unique: [['name']] },
  {
    name: 'team_members',
    columns: ['team_id bigint -> teams.id cascade', 'user_id bigint -> users.id cascade', 'role text'],
    primaryKey: ['team_id', 'user_id'],
  },
  {
    name: 'team_grants',
    columns: ['team_id bigint -> teams.id cascade', 'repository_pattern text'],
    primaryKey: ['team_id', 'repository_pattern'],
  },
  {
    name: 'api_tokens',
    columns: [
      'id id',
      'public_id text',
      'secret_hmac text',
      'name text',
      'owner_team_id bigint? -> teams.id cascade',
      'owner_user_id bigint? -> users.id cascade',
      'scopes json',
      'repository_pattern text',
      'expires_at bigint',
      'created_by bigint?',
      'last_used_at bigint?',
      'last_used_ip text?',
      'revoked_at bigint?',
    ],
    unique: [['public_id']],
  },
  {
    name: 'sessions',
    columns: [
      'id_hash text',
      'user_id bigint -> users.id cascade',
      'csrf_hash text',
      'expires_at bigint',
      'idle_expires_at bigint',
      'last_seen_at bigint',
      'ip text?',
      'user_agent text?',
    ],
    primaryKey: ['id_hash'],
  },
  { name: 'settings', columns: ['key text', 'value json', 'updated_at bigint'], primaryKey: ['key'] },
  {
    name: 'registry_creds',
    columns: ['host text', 'username text', 'secret_enc text', 'key_id text', 'updated_at bigint'],
    primaryKey: ['host'],
  },
  // images
  {
    name: 'repositories',
    columns: [
      'id id',
      'public_id text',
      'name text',
      'name_lc text',
      'team_id bigint? -> teams.id',
      'source_repo text?',
      "settings json ='{}'",
      'archived_at bigint?',
      'purge_after bigint?',
    ],
    unique: [['public_id'], ['name']],
  },
  {
    name: 'images',
    columns: [
      'id id',
      'digest text',
      'index_digest text?',
      'platform text',
      'os_ecosystem text?',
      'config_digest text?',
      'image_created_at bigint?',
      'first_ingested_at bigint',
      'last_ingested_at bigint',
      "state text ='active'",
      'inventory_artifact_id bigint?',
      'analyzed_generation bigint?',
      'critical int =0',
      'high int =0',
      'medium int =0',
      'low int =0',
      'unknown int =0',
      'suppressed int =0',
      'packages int =0',
      'has_kev flag =0',
      'risk_index real =0',
      "evidence_state text ='none'",
      'evidence_score int =0',
      'evidence_max int =0',
    ],
    unique: [['digest']],
  },
  {
    name: 'tags',
    columns: [
      'id id',
      'repository_id bigint -> repositories.id cascade',
      'name text',
      'current_image_id bigint? -> images.id',
      'moved_at bigint',
    ],
    unique: [['repository_id', 'name']],
  },
  {
    name: 'tag_history',
    columns: [
      'tag_id bigint -> tags.id cascade',
      'image_id bigint -> images.id cascade',
      'from_at bigint',
      'to_at bigint?',
      'source text',
    ],
    primaryKey: ['tag_id', 'from_at'],
  },
  {
    name: 'repository_images',
    columns: [
      'repository_id bigint -> repositories.id cascade',
      'image_id bigint -> images.id cascade',
      'track text',
      'first_seen_at bigint',
      'is_current flag =0',
    ],
    primaryKey: ['repository_id', 'image_id'],
  },
  { name: 'layers', columns: ['id id', 'diff_id text', 'digest text?', 'size bigint?'], unique: [['diff_id']] },
  {
    name: 'image_layers',
    columns: [
      'image_id bigint -> images.id cascade',
      'position int',
      'layer_id bigint -> layers.id',
      'created_by text?',
    ],
    primaryKey: ['image_id', 'position'],
  },
  // evidence
  {
    name: 'artifacts',
    columns: [
      'id id',
      'sha256 text',
      'kind text',
      'media_type text',
      'size bigint',
      'storage_key text',
      'first_job_id bigint?',
    ],
    unique: [['sha256']],
  },
  {
    name: 'image_artifacts',
    columns: [
      'image_id bigint -> images.id cascade',
      'artifact_id bigint -> artifacts.id',
      'role text',
      'predicate_type text?',
      'job_id bigint?',
    ],
    primaryKey: ['image_id', 'artifact_id'],
  },
  {
    name: 'builds',
    columns: [
      'id id',
      'image_id bigint -> images.id cascade',
      'provenance_artifact_id bigint -> artifacts.id',
      'builder_id text?',
      'build_type text?',
      'source_repo text?',
      'source_commit text?',
      'source_ref text?',
      'workflow_path text?',
      'run_id text?',
      'run_url text?',
      'started_at bigint?',
      'finished_at bigint?',
    ],
    unique: [['image_id', 'provenance_artifact_id']],
  },
  {
    name: 'verifications',
    columns: [
      'image_id bigint -> images.id cascade',
      'check text',
      'result text',
      'artifact_id bigint? -> artifacts.id',
      'key_id text?',
      'identity text?',
      "detail json ='{}'",
      'policy_hash text',
      'verified_at bigint',
    ],
    primaryKey: ['image_id', 'check'],
  },
  {
    name: 'trusted_keys',
    columns: [
      'id id',
      'public_id text',
      'repository_pattern text',
      'algorithm text',
      'public_key_pem text',
      'fingerprint text',
      'keyless_issuer text?',
      'keyless_identity text?',
      'revoked_at bigint?',
    ],
    unique: [['public_id'], ['fingerprint']],
  },
  // inventory
  {
    name: 'packages',
    columns: [
      'id id',
      'purl text',
      'type text',
      'name text',
      'name_lc text',
      'version text',
      'ecosystem text?',
      'match_name text?',
      'match_version text?',
      "licenses json ='[]'",
    ],
    unique: [['purl']],
  },
  {
    name: 'package_occurrences',
    columns: [
      'image_id bigint -> images.id cascade',
      'package_id bigint -> packages.id',
      'layer_id bigint? -> layers.id',
      'path text',
      'found_by text',
    ],
    primaryKey: ['image_id', 'package_id', 'path'],
  },
  // vulnerability data, findings, exposures, exceptions
  {
    name: 'vulnerabilities',
    columns: [
      'id id',
      'vuln_id text',
      "aliases json ='[]'",
      'summary text?',
      'severity text',
      'cvss json?',
      'epss real?',
      'kev flag =0',
      'kev_added_at bigint?',
      'published_at bigint?',
      'modified_at bigint?',
      'withdrawn_at bigint?',
    ],
    unique: [['vuln_id']],
  },
  {
    name: 'vuln_aliases',
    columns: ['alias text', 'vulnerability_id bigint -> vulnerabilities.id cascade'],
    primaryKey: ['alias'],
  },
  {
    name: 'db_generations',
    columns: [
      'id id',
      'finished_at bigint?',
      'matcher_version text',
      'changed_count int =0',
      'snapshot_key text?',
      'state text',
    ],
  },
  {
    name: 'db_changes',
    columns: ['generation_id bigint -> db_generations.id cascade', 'ecosystem text', 'package_name text'],
    primaryKey: ['generation_id', 'ecosystem', 'package_name'],
  },
  {
    name: 'exceptions',
    columns: [
      'id id',
      'public_id text',
      'vulnerability_id bigint -> vulnerabilities.id',
      'repository_id bigint? -> repositories.id cascade',
      'image_digest text?',
      'package_pattern text?',
      'status text',
      'justification text?',
      'reason text',
      'owner_user_id bigint? -> users.id',
      'created_by bigint?',
      'expires_at bigint',
      'revoked_at bigint?',
      'source text',
    ],
    unique: [['public_id']],
  },
  {
    name: 'findings',
    columns: [
      'id id',
      'image_id bigint -> images.id cascade',
      'package_id bigint -> packages.id',
      'vulnerability_id bigint -> vulnerabilities.id',
      'severity text',
      'fixed_version text?',
      'status text',
      'exception_id bigint? -> exceptions.id',
      'first_seen_at bigint',
      'last_seen_at bigint',
      'resolved_at bigint?',
      'resolution text?',
      'reopened_count int =0',
      'detected_by text',
    ],
    unique: [['image_id', 'package_id', 'vulnerability_id']],
  },
  {
    name: 'exposures',
    columns: [
      'id id',
      'repository_id bigint -> repositories.id cascade',
      'track text',
      'vulnerability_id bigint -> vulnerabilities.id',
      'package_name text',
      'severity text',
      'state text',
      'opened_at bigint',
      'opened_image_id bigint -> images.id',
      'resolved_at bigint?',
      'resolved_image_id bigint? -> images.id',
      'resolved_build_id bigint? -> builds.id',
      'package_from text',
      'package_to text?',
      'reopened_count int =0',
      'cve_published_at bigint?',
      'fix_first_seen_at bigint?',
    ],
    unique: [['repository_id', 'track', 'vulnerability_id', 'package_name']],
  },
  // audit, jobs, nodes. (events is one table on both engines for now; PostgreSQL monthly partitioning is a later
  // migration once retention exists.)
  {
    name: 'events',
    columns: [
      'id id',
      'at bigint',
      'type text',
      'actor_kind text',
      'actor_id bigint?',
      'repository_id bigint?',
      'image_id bigint?',
      'vulnerability_id bigint?',
      'severity text?',
      'request_id text?',
      "data json ='{}'",
    ],
  },
  {
    name: 'jobs',
    columns: [
      'id id',
      'public_id text',
      'kind text',
      'state text',
      'priority int =0',
      'dedupe_key text?',
      "payload json ='{}'",
      "steps json ='[]'",
      'result json?',
      'error json?',
      'attempts int =0',
      'max_attempts int =5',
      'run_at bigint',
      'started_at bigint?',
      'finished_at bigint?',
      'locked_by text?',
      'lease_until bigint?',
      'parent_id bigint? -> jobs.id',
      'pending_children int =0',
      'created_by text?',
    ],
    unique: [['public_id']],
  },
  { name: 'nodes', columns: ['id text', 'role text', 'version text', 'heartbeat_at bigint'], primaryKey: ['id'] },
];

export const INDEXES: readonly IndexSpec[] = [
  { name: 'tag_history_open_uk', table: 'tag_history', columns: ['tag_id'], unique: true, where: 'to_at is null' },
  { name: 'tag_history_image_idx', table: 'tag_history', columns: ['image_id'] },
  { name: 'repositories_name_lc_idx', table: 'repositories', columns: ['name_lc'] },
  { name: 'images_index_digest_idx', table: 'images', columns: ['index_digest'] },
  {
    name: 'repository_images_current_idx',
    table: 'repository_images',
    columns: ['repository_id', 'track'],
    where: 'is_current = 1',
  },
  { name: 'repository_images_image_idx', table: 'repository_images', columns: ['image_id'] },
  { name: 'image_artifacts_artifact_idx', table: 'image_artifacts', columns: ['artifact_id'] },
  { name: 'packages_match_idx', table: 'packages', columns: ['ecosystem', 'match_name'] },
  { name: 'packages_name_lc_idx', table: 'packages', columns: ['name_lc'] },
  { name: 'package_occurrences_package_idx', table: 'package_occurrences', columns: ['package_id', 'image_id'] },
  { name: 'vuln_aliases_vulnerability_idx', table: 'vuln_aliases', columns: ['vulnerability_id'] },
  { name: 'findings_vulnerability_idx', table: 'findings', columns: ['vulnerability_id', 'status', 'image_id'] },
  { name: 'findings_image_idx', table: 'findings', columns: ['image_id', 'status', 'severity'] },
  { name: 'findings_package_idx', table: 'findings', columns: ['package_id', 'vulnerability_id'] },
  { name: 'exposures_state_idx', table: 'exposures', columns: ['state', 'severity'] },
  { name: 'exposures_resolved_idx', table: 'exposures', columns: ['resolved_at'] },
  { name: 'exceptions_vulnerability_idx', table: 'exceptions', columns: ['vulnerability_id'] },
  { name: 'events_image_idx', table: 'events', columns: ['image_id', 'id'] },
  { name: 'events_repository_idx', table: 'events', columns: ['repository_id', 'id'] },
  { name: 'events_type_idx', table: 'events', columns: ['type', 'id'] },
  { name: 'api_tokens_owner_user_idx', table: 'api_tokens', columns: ['owner_user_id'] },
  { name: 'sessions_user_idx', table: 'sessions', columns: ['user_id'] },
  // one live job per dedupe key: an identical ingest while the first is queued or running finds that job
  {
    name: 'jobs_dedupe_uk',
    table: 'jobs',
    columns: ['dedupe_key'],
    unique: true,
    where: "state in ('queued', 'running')",
  },
  // the claim query: the next runnable job by priority and time
  { name: 'jobs_claim_idx', table: 'jobs', columns: ['state', 'priority', 'run_at'] },
  { name: 'jobs_parent_idx', table: 'jobs', columns: ['parent_id'] },
];

const COLUMN =
  /^([a-z_][a-z0-9_]*) (id|bigint|int|text|json|flag|real)(\?)?(?: =('[^']*'|-?[0-9.]+))?(?: -> ([a-z_]+)\.([a-z_]+)( cascade)?)?$/;

export interface ParsedColumn {
  readonly name: string;
  readonly kind: 'id' | 'bigint' | 'int' | 'text' | 'json' | 'flag' | 'real';
  readonly nullable: boolean;
  readonly defaultValue: string | number | undefined;
  readonly references: { table: string; column: string; cascade: boolean } | undefined;
}

export function parseColumn(line: string): ParsedColumn {
  const m = COLUMN.exec(line);
  if (!m) throw new Error(`migration 0001: unreadable column definition "${line}"`);
  const rawDefault = m[4];
  return {
    name: m[1]!,
    kind: m[2] as ParsedColumn['kind'],
    nullable: m[3] === '?',
    defaultValue:
      rawDefault === undefined ? undefined : rawDefault.startsWith("'") ? rawDefault.slice(1, -1) : Number(rawDefault),
    references: m[5] ? { table: m[5], column: m[6]!, cascade: m[7] !== undefined } : undefined,
  };
}

// biome-ignore lint/suspicious/noExplicitAny: migrations run before (and independently of) the typed schema
type AnyDb = Kysely<any>;

export async function createTables(db: AnyDb, dialect: SqlDialect, tables: readonly TableSpec[]): Promise<void> {
  const types = columnTypes(dialect);
  for (const table of tables) {
    let builder = db.schema.createTable(table.name);
    for (const line of [...table.columns, 'created_at bigint']) {
      const c = parseColumn(line);
      builder = builder.addColumn(c.name, types[c.kind], (col) => {
        if (c.kind === 'id') {
          return dialect === 'sqlite'
            ? col.notNull().primaryKey().autoIncrement()
            : col.primaryKey().generatedByDefaultAsIdentity();
        }
        let out = c.nullable ? col : col.notNull();
        if (c.defaultValue !== undefined) out = out.defaultTo(c.defaultValue);
        if (c.references) {
          out = out.references(`${c.references.table}.${c.references.column}`);
          if (c.references.cascade) out = out.onDelete('cascade');
        }
        return out;
      });
    }
    if (table.primaryKey)
      builder = builder.addPrimaryKeyConstraint(`${table.name}_pk`, [...table.primaryKey] as never[]);
    for (const columns of table.unique ?? []) {
      builder = builder.addUniqueConstraint(`${table.name}_${columns.join('_')}_uk`, [...columns] as never[]);
    }
    await builder.execute();
  }
}

export async function createIndexes(db: AnyDb, indexes: readonly IndexSpec[]): Promise<void> {
  for (const index of indexes) {
    let builder = db.schema
      .createIndex(index.name)
      .on(index.table)
      .columns([...index.columns] as string[]);
    if (index.unique) builder = builder.unique();
    if (index.where) builder = builder.where(sql.raw<boolean>(index.where));
    await builder.execute();
  }
}

export function initialMigration(dialect: SqlDialect): Migration {
  return {
    async up(db) {
      await createTables(db, dialect, TABLES);
      await createIndexes(db, INDEXES);
    },
    // forward-only (SERVER.md section 1): there is no down migration
  };
}
