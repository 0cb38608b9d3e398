// The two shapes an event leaves the server in: Lading's own (names instead of row ids) and OCSF 1.1 for SIEMs
// (SERVER.md section 2: classes 2002 Vulnerability Finding for findings, 6003 API Activity for everything else).
import { decodeJson } from '../db/dialect.js';

/** One `events` row with the names its ids stand for (resolved per chunk by the stream). */
export interface EventRow {
  readonly id: number;
  readonly at: number;
  readonly type: string;
  readonly actorKind: 'user' | 'token' | 'system';
  readonly actorId: number | null;
  readonly repository: string | null;
  readonly image: string | null;
  readonly vulnerability: string | null;
  readonly severity: string | null;
  readonly requestId: string | null;
  readonly data: string;
}

export const EVENT_FORMATS = ['lading', 'ocsf'] as const;
export type EventFormat = (typeof EVENT_FORMATS)[number];

export interface LadingEvent {
  id: number;
  at: string;
  type: string;
  actor: { kind: 'user' | 'token' | 'system'; id: number | null };
  repository: string | null;
  image: string | null;
  vulnerability: string | null;
  severity: string | null;
  requestId: string | null;
  data: Record<string, unknown>;
}

export function ladingEvent(row: EventRow): LadingEvent {
  return {
    id: row.id,
    at: new Date(row.at).toISOString(),
    type: row.type,
    actor: { kind: row.actorKind, id: row.actorId },
    repository: row.repository,
    image: row.image,
    vulnerability: row.vulnerability,
    severity: row.severity,
    requestId: row.requestId,
    data: dataOf(row),
  };
}

const OCSF_VERSION = '1.1.0';
/** OCSF severity_id: 0 Unknown, 1 Informational, 2 Low, 3 Medium, 4 High, 5 Critical. */
const SEVERITY_IDS: Readonly<Record<string, number>> = { LOW: 2, MEDIUM: 3, HIGH: 4, CRITICAL: 5 };

/**
 * An OCSF event. Finding events (`finding.*`) are class 2002 with activity Create (a new finding), Close (resolved,
 * retracted) or Update (anything else); every other event is class 6003 API Activity (Create/Update/Delete read
 * from the verb that ends the type, else Other). `metadata.uid` is the Lading event id, the resume cursor.
 */
export function ocsfEvent(row: EventRow): Record<string, unknown> {
  const severityId = row.severity ? (SEVERITY_IDS[row.severity.toUpperCase()] ?? 0) : 1;
  const common = {
    time: row.at,
    severity_id: severityId,
    status_id: 1,
    message: messageOf(row),
    metadata: {
      version: OCSF_VERSION,
      uid: String(row.id),
      event_code: row.type,
      correlation_uid: row.requestId ?? undefined,
      product: { name: 'Lading', vendor_name: 'Lading' },
    },
    actor: {
      user: { uid: row.actorId === null ? row.actorKind : `${row.actorKind}:${row.actorId}`, type: row.actorKind },
    },
    unmapped: { data: dataOf(row), repository: row.repository, image: row.image },
  };
  if (row.type.startsWith('finding.')) {
    const activity = /\.(new|reopened)$/.test(row.type) ? 1 : /\.(resolved|retracted)$/.test(row.type) ? 3 : 2;
    return {
      ...common,
      category_uid: 2,
      class_uid: 2002,
      activity_id: activity,
      type_uid: 200200 + activity,
      finding_info: {
        uid: `${row.image ?? row.repository ?? 'fleet'}/${row.vulnerability ?? row.id}`,
        title: messageOf(row),
      },
      vulnerabilities: row.vulnerability
        ? [{ cve: { uid: row.vulnerability }, severity: row.severity ?? 'UNKNOWN' }]
        : [],
      resources: row.image
        ? [{ uid: row.image, type: 'container_image', group: { name: row.repository ?? undefined } }]
        : [],
    };
  }
  const verb = row.type.slice(row.type.lastIndexOf('.') + 1);
  const activity = CREATE_VERBS.has(verb) ? 1 : DELETE_VERBS.has(verb) ? 4 : UPDATE_VERBS.has(verb) ? 3 : 99;
  return {
    ...common,
    category_uid: 6,
    class_uid: 6003,
    activity_id: activity,
    type_uid: 600300 + activity,
    api: { operation: row.type },
    src_endpoint: {},
    resources: row.image ? [{ uid: row.image, type: 'container_image' }] : [],
  };
}

const CREATE_VERBS = new Set(['created', 'ingested', 'added', 'new']);
const DELETE_VERBS = new Set(['deleted', 'revoked', 'purged', 'removed']);
const UPDATE_VERBS = new Set(['updated', 'quarantined', 'expired', 'retired', 'archived', 'moved', 'changed']);

function messageOf(row: EventRow): string {
  const about = [row.vulnerability, row.repository, row.image].filter((v) => v !== null).join(' ');
  return about ? `${row.type} ${about}` : row.type;
}

function dataOf(row: EventRow): Record<string, unknown> {
  const data = decodeJson<unknown>(row.data);
  return data !== null && typeof data === 'object' && !Array.isArray(data) ? (data as Record<string, unknown>) : {};
}

/** The audit export's CSV columns, in order. */
export const CSV_COLUMNS = [
  'id',
  'at',
  'type',
  'actor_kind',
  'actor_id',
  'repository',
  'image',
  'vulnerability',
  'severity',
  'request_id',
  'data',
] as const;

/**
 * One CSV record (RFC 4180: quoted when needed, CRLF ends). A text cell a spreadsheet would run as a formula
 * (starting with = + - @ or a control character) is prefixed with an apostrophe: audit data holds user input.
 */
export function csvRecord(row: EventRow): string {
  const e = ladingEvent(row);
  const cells = [
    String(e.id),
    e.at,
    text(e.type),
    e.actor.kind,
    e.actor.id === null ? '' : String(e.actor.id),
    text(e.repository),
    text(e.image),
    text(e.vulnerability),
    text(e.severity),
    text(e.requestId),
    text(JSON.stringify(e.data)),
  ];
  return `${cells.map(quote).join(',')}\r\n`;
}

export function csvHeader(): string {
  return `${CSV_COLUMNS.join(',')}\r\n`;
}

function text(value: string | null): string {
  if (value === null) return '';
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}

function quote(cell: string): string {
  return /[",\r\n]/.test(cell) ? `"${cell.replaceAll('"', '""')}"` : cell;
}
