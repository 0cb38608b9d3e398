// The system's status (GET /readyz: the database answers and has every migration) and how fresh the data is: the
// newest ingest and the newest daily metrics point, each with its age, from the public API.
import { api, type Page } from '../../api.js';
import { Show, useLoad } from '../../components/load.js';
import { formatAge, formatTime } from '../../format.js';
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

export function StatusSection() {
  const [status] = useLoad((signal) => readiness(signal), []);
  const [fresh] = useLoad((signal) => freshness(signal), []);
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
    </>
  );
}
