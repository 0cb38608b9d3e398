// The system's status (GET /readyz: the database answers and has every migration) and how fresh the data is: the
// newest ingest and the newest daily metrics point, each with its age, and the vulnerability data (GET
// /system/vulndb: its generation, each ecosystem's newest advisory, KEV and EPSS, the last update job), from the
// public API.
import { api, type Page } from '../../api.js';
import { Show, useLoad } from '../../components/load.js';
import { Table } from '../../components/table.js';
import { formatAge, formatNumber, formatTime } from '../../format.js';
import type { ImageSummary } from '../../types.js';

/** The server's readiness (GET /readyz, public): whether the database answers and has every migration. */
async function readiness(signal: AbortSignal): Promise<Record<string, unknown>> {
  const response = await fetch('/readyz', { signal, headers: { accept: 'application/json' } });
  const body = (await response.json().catch(() => ({}))) as { status?: unknown; checks?: Record<string, unknown> };
  // a 503 answers with a problem document: its detail says what is wrong
  if (!response.ok) return { status: 'unavailable', detail: (body as { detail?: unknown }).detail ?? response.status };
  return { status: body.status, ...body.checks };
}

interface Freshness {
  newestIngest: string | null;
  newestMetricsDay: string | null;
}

async function freshness(signal: AbortSignal): Promise<Freshness> {
  const [images, trends] = await Promise.all([
    api<Page<ImageSummary>>('/images', { signal, query: { sort: '-ingestedAt', limit: 1 } }),
    api<{ points: { date: string }[] }>('/trends', { signal, query: { scope: 'fleet', interval: 'day' } }),
  ]);
  return {
    newestIngest: images.items[0]?.ingestedAt ?? null,
    newestMetricsDay: trends.points.at(-1)?.date ?? null,
  };
}

/** GET /api/v1/system/vulndb (server/src/vulndata/freshness.ts). */
interface VulndbFreshness {
  status: 'ready' | 'no-data' | 'unreadable';
  summary: string;
  matcherVersion: string;
  generation: {
    id: number;
    source: 'update' | 'import' | null;
    createdAt: string;
    finishedAt: string;
    matcherVersion: string;
    changedPackages: number;
  } | null;
  ecosystems: {
    ecosystem: string;
    records: number;
    newestRecord: string | null;
    updatedAt: string | null;
    source: 'update' | 'import' | null;
    wholeDump: boolean;
  }[];
  newestRecord: string | null;
  kev: { entries: number; catalogVersion: string | null; updatedAt: string | null };
  epss: { scores: number; modelVersion: string | null; scoreDate: string | null; updatedAt: string | null };
  lastUpdateJob: {
    id: string;
    state: string;
    createdAt: string;
    startedAt: string | null;
    finishedAt: string | null;
    error: string | null;
  } | null;
}

/** `2026-11-23 06:00 UTC (3 d ago)`; `never` when there is no time. */
function whenText(iso: string | null, now: number, never = 'never'): string {
  if (!iso) return never;
  const age = formatAge(iso, now);
  return `${formatTime(iso)} (${age === 'just now' ? age : `${age} ago`})`;
}

/** How old the data itself is: its newest advisory's `modified` time and age (`… (3 d old)`). */
function dataAgeText(iso: string | null, now: number): string {
  if (!iso) return 'unknown';
  const age = formatAge(iso, now);
  return `${formatTime(iso)} (${age === 'just now' ? 'modified just now' : `${age} old`})`;
}

function VulnerabilityData(props: { data: VulndbFreshness; now: number }) {
  const { data, now } = props;
  const g = data.generation;
  const job = data.lastUpdateJob;
  return (
    <>
      {/* the facts below say it all when there is data; the server's sentence says what to do when there is none */}
      {data.status !== 'ready' ? (
        <p data-vulndb-status={data.status} class={data.status === 'unreadable' ? 'error' : undefined}>
          {data.status === 'no-data' ? 'No vulnerability data yet: ' : 'Problem: '}
          {data.summary.replace(/^no vulnerability data yet: /, '')}
        </p>
      ) : null}
      <dl class="facts" data-vulndb>
        <dt>Data generation</dt>
        <dd data-vulndb-generation={g ? String(g.id) : ''}>
          {g
            ? `#${g.id}${g.source ? ` (${g.source})` : ''}, recorded ${whenText(g.finishedAt, now)}, ${formatNumber(g.changedPackages)} ${g.changedPackages === 1 ? 'package' : 'packages'} changed`
            : 'none yet'}
        </dd>
        <dt>Newest advisory</dt>
        <dd data-vulndb-age>{data.newestRecord ? dataAgeText(data.newestRecord, now) : 'none yet'}</dd>
        <dt>KEV catalog</dt>
        <dd>
          {formatNumber(data.kev.entries)} entries
          {data.kev.catalogVersion ? ` (version ${data.kev.catalogVersion})` : ''}, refreshed{' '}
          {whenText(data.kev.updatedAt, now)}
        </dd>
        <dt>EPSS scores</dt>
        <dd>
          {formatNumber(data.epss.scores)} scores
          {data.epss.modelVersion ? ` (model ${data.epss.modelVersion}, ${data.epss.scoreDate ?? 'undated'})` : ''},
          refreshed {whenText(data.epss.updatedAt, now)}
        </dd>
        <dt>Matcher version</dt>
        <dd>
          {data.matcherVersion}
          {g && g.matcherVersion !== data.matcherVersion
            ? ` (the data was matched by ${g.matcherVersion}; the next generation matches everything again)`
            : ''}
        </dd>
        <dt>Last update job</dt>
        <dd data-vulndb-job={job?.state ?? ''}>
          {job
            ? `${job.state}, ${job.finishedAt ? `finished ${whenText(job.finishedAt, now)}` : `queued ${whenText(job.createdAt, now)}`}${job.error ? `: ${job.error}` : ''}`
            : 'none yet (the nightly update runs at 03:00 UTC)'}
        </dd>
      </dl>
      <Table
        caption="Vulnerability data by ecosystem"
        columns={[
          { key: 'ecosystem', label: 'Ecosystem', render: (e) => e.ecosystem, sort: (e) => e.ecosystem },
          {
            key: 'records',
            label: 'Records',
            render: (e) => formatNumber(e.records),
            sort: (e) => e.records,
            numeric: true,
          },
          {
            key: 'newest',
            label: 'Newest advisory (data age)',
            render: (e) => dataAgeText(e.newestRecord, now),
            sort: (e) => e.newestRecord,
          },
          {
            key: 'updated',
            label: 'Last updated',
            render: (e) => whenText(e.updatedAt, now),
            sort: (e) => e.updatedAt,
          },
          {
            key: 'source',
            label: 'How',
            render: (e) => `${e.source ?? 'unknown'}${e.wholeDump ? ', whole dump' : ''}`,
          },
        ]}
        rows={data.ecosystems}
        rowKey={(e) => e.ecosystem}
        empty="No ecosystem holds data yet."
      />
    </>
  );
}

export function StatusSection() {
  const [status] = useLoad((signal) => readiness(signal), []);
  const [fresh] = useLoad((signal) => freshness(signal), []);
  const [vulndb] = useLoad((signal) => api<VulndbFreshness>('/system/vulndb', { signal }), []);
  const now = Date.now();
  return (
    <>
      <Show loaded={status} what="the system status">
        {(s) => (
          <dl class="facts" data-system-status>
            {Object.entries(s).map(([key, value]) => (
              <>
                <dt key={`${key}-t`}>{key}</dt>
                <dd key={`${key}-d`}>{typeof value === 'object' ? JSON.stringify(value) : String(value)}</dd>
              </>
            ))}
          </dl>
        )}
      </Show>
      <h3>Data freshness</h3>
      <Show loaded={fresh} what="the data freshness">
        {(f) => (
          <dl class="facts" data-freshness>
            <dt>Newest ingest</dt>
            <dd>
              {f.newestIngest ? `${formatTime(f.newestIngest)} (${formatAge(f.newestIngest, now)} ago)` : 'none yet'}
            </dd>
            <dt>Newest daily metrics</dt>
            <dd>
              {f.newestMetricsDay
                ? `${f.newestMetricsDay} (recorded nightly; trends and MTTR read these)`
                : 'none yet (the nightly job records the first)'}
            </dd>
          </dl>
        )}
      </Show>
      <h3>Vulnerability data</h3>
      <Show loaded={vulndb} what="the vulnerability data's freshness">
        {(v) => <VulnerabilityData data={v} now={now} />}
      </Show>
    </>
  );
}
