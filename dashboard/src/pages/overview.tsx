// The state of every current image at a glance: cards coloured by thresholds (each with its number in words), the
// weekly summary's risk index and direction, time to fix and SLA breaches from the metrics, a 30-day trend (Chart.js,
// loaded only when the chart is drawn) and the ten riskiest images.
import { api, type Page } from '../api.js';
import type { PageProps } from '../app.js';
import { LineChart } from '../components/chart.js';
import { Show, useLoad } from '../components/load.js';
import { SeverityCounts } from '../components/severity.js';
import { Table } from '../components/table.js';
import { type Counts, formatAge, formatNumber, SEVERITIES, shortDigest, thresholdState } from '../format.js';
import type { ImageSummary, WeeklySummary } from '../types.js';

/** GET /api/v1/overview: the server counts the cards over every current image the caller may see. */
interface OverviewCards {
  currentImages: number;
  withCritical: number;
  withKev: number;
  evidenceFailed: number;
  open: Counts;
  riskIndex: number;
  evidenceVerified: number;
  stale: number;
  staleDays: number;
  newVulnerabilities24h: number;
}

/** The parts of GET /api/v1/metrics the cards use. */
interface FleetMetrics {
  mttrDays: Record<string, { n: number; meanDays: number | null }>;
  sla: Record<string, { openBreaches: number }>;
}

interface TrendPoint {
  date: string;
  critical: number;
  high: number;
  medium: number;
  newFindings: number;
  resolvedFindings: number;
}

/** The overview's trend and time-to-fix window, in days. */
export const OVERVIEW_DAYS = 30;

interface Fleet {
  cards: OverviewCards;
  riskiest: ImageSummary[];
  summary: WeeklySummary | undefined;
  metrics: FleetMetrics;
  trend: TrendPoint[];
}

/** Mean days to remediate over every severity, each severity's mean weighted by its resolved episodes. */
export function overallMttr(mttr: FleetMetrics['mttrDays']): number | null {
  let days = 0;
  let n = 0;
  for (const m of Object.values(mttr)) {
    if (m.meanDays === null || m.n === 0) continue;
    days += m.meanDays * m.n;
    n += m.n;
  }
  return n === 0 ? null : days / n;
}

export function slaBreaches(sla: FleetMetrics['sla']): number {
  return Object.values(sla).reduce((sum, row) => sum + row.openBreaches, 0);
}

/** Evidence coverage as a whole percentage (`—` when there is no current image). */
export function coverageText(verified: number, images: number): string {
  return images === 0 ? '—' : `${Math.round((100 * verified) / images)}%`;
}

async function loadFleet(signal: AbortSignal): Promise<Fleet> {
  // The cards come from the server's own counters (never re-added here from a page of images, which would drift
  // from the API's numbers once the fleet is larger than a page); the table is the first page sorted by risk.
  const from = new Date(Date.now() - OVERVIEW_DAYS * 86_400_000).toISOString().slice(0, 10);
  const [cards, riskiest, summary, metrics, trend] = await Promise.all([
    api<OverviewCards>('/overview', { signal }),
    api<Page<ImageSummary>>('/images', { query: { current: true, sort: '-riskIndex', limit: 10 }, signal }),
    // the weekly summary is optional (a server without one yet answers 404): the card then says so
    api<WeeklySummary>('/summaries/weekly/latest', { signal }).catch(() => undefined),
    api<FleetMetrics>('/metrics', { query: { scope: 'fleet', window: `${OVERVIEW_DAYS}d` }, signal }),
    api<{ points: TrendPoint[] }>('/trends', { query: { scope: 'fleet', interval: 'day', from }, signal }),
  ]);
  return { cards, riskiest: riskiest.items, summary, metrics, trend: trend.points };
}

/** `12 min ago`, but `just now` (never `just now ago`) and `—` as they are. */
function agoText(age: string): string {
  return age === 'just now' || age === '—' ? age : `${age} ago`;
}

function Card(props: {
  label: string;
  value: string;
  words: string;
  state: 'ok' | 'warn' | 'bad' | 'none';
  href?: string;
}) {
  const body = (
    <>
      <span class="card-value">{props.value}</span>
      <span class="card-label">{props.label}</span>
      <span class="card-words">{props.words}</span>
    </>
  );
  return (
    <li class={`card card-${props.state}`} data-card={props.label}>
      {props.href ? <a href={props.href}>{body}</a> : body}
    </li>
  );
}

function trendSummary(points: TrendPoint[]): string {
  const first = points[0];
  const last = points[points.length - 1];
  if (!first || !last) return `No trend points in the last ${OVERVIEW_DAYS} days yet.`;
  const total = (p: TrendPoint) => p.critical + p.high + p.medium;
  const change = total(last) - total(first);
  const direction = change > 0 ? `up ${change}` : change < 0 ? `down ${-change}` : 'unchanged';
  return `From ${first.date} to ${last.date}: critical, high and medium open findings ${direction} (${total(last)} on ${last.date}: ${last.critical} critical, ${last.high} high, ${last.medium} medium).`;
}

export default function Overview(_props: PageProps) {
  const [fleet] = useLoad(loadFleet, []);
  return (
    <section>
      <h1>Overview</h1>
      <Show loaded={fleet} what="the fleet">
        {(f) => {
          const c = f.cards;
          const now = Date.now();
          const mttr = overallMttr(f.metrics.mttrDays);
          const breaches = slaBreaches(f.metrics.sla);
          return (
            <>
              <ul class="cards" aria-label="Fleet state">
                <Card
                  label="Current images"
                  value={formatNumber(c.currentImages)}
                  words={`${c.currentImages} ${c.currentImages === 1 ? 'image' : 'images'} with a current tag`}
                  state="none"
                  href="/images?current=true"
                />
                <Card
                  label="Images with CRITICAL"
                  value={formatNumber(c.withCritical)}
                  words={c.withCritical ? `${c.withCritical} images need attention` : 'none'}
                  state={thresholdState(c.withCritical, { warn: 1, fail: 1 })}
                  href="/images?current=true&minSeverity=critical"
                />
                <Card
                  label="Images with KEV"
                  value={formatNumber(c.withKev)}
                  words={c.withKev ? `${c.withKev} images with a known exploited vulnerability` : 'none'}
                  state={thresholdState(c.withKev, { warn: 1, fail: 1 })}
                  href="/images?current=true&kev=true"
                />
                {SEVERITIES.slice(0, 4).map((s) => (
                  <Card
                    key={s}
                    label={`Open ${s}`}
                    value={formatNumber(c.open[s])}
                    words={`${c.open[s]} open ${s} findings`}
                    state={
                      s === 'critical' || s === 'high'
                        ? thresholdState(c.open[s], { warn: 1, fail: s === 'critical' ? 1 : 10 })
                        : 'none'
                    }
                  />
                ))}
                <Card
                  label="Risk index"
                  value={formatNumber(c.riskIndex, 1)}
                  words={f.summary ? `direction: ${f.summary.direction}` : 'no weekly summary yet'}
                  state={thresholdState(c.riskIndex, { warn: 25, fail: 50 })}
                  href="/summary"
                />
                <Card
                  label="Evidence failed"
                  value={formatNumber(c.evidenceFailed)}
                  words={c.evidenceFailed ? `${c.evidenceFailed} images whose evidence failed verification` : 'none'}
                  state={c.evidenceFailed > 0 ? 'bad' : 'ok'}
                  href="/images?current=true&evidence=failed"
                />
                <Card
                  label="Evidence coverage"
                  value={coverageText(c.evidenceVerified, c.currentImages)}
                  words={`${c.evidenceVerified} of ${c.currentImages} current images verified`}
                  state={c.currentImages === 0 ? 'none' : c.evidenceVerified === c.currentImages ? 'ok' : 'warn'}
                  href="/images?current=true&evidence=verified"
                />
                <Card
                  label="Stale images"
                  value={formatNumber(c.stale)}
                  words={
                    c.stale
                      ? `${c.stale} current images not ingested or rescanned for ${c.staleDays} days`
                      : `none older than ${c.staleDays} days`
                  }
                  state={c.stale > 0 ? 'warn' : 'ok'}
                />
                <Card
                  label="New CVEs (24 h)"
                  value={formatNumber(c.newVulnerabilities24h)}
                  words={
                    c.newVulnerabilities24h
                      ? `${c.newVulnerabilities24h} vulnerabilities newly open in current images in the last 24 hours`
                      : 'none in the last 24 hours'
                  }
                  state={c.newVulnerabilities24h > 0 ? 'warn' : 'ok'}
                />
                <Card
                  label="MTTR"
                  value={mttr === null ? '—' : `${formatNumber(mttr, 1)} d`}
                  words={
                    mttr === null
                      ? `nothing resolved in ${OVERVIEW_DAYS} days`
                      : `mean time to remediate over ${OVERVIEW_DAYS} days`
                  }
                  state="none"
                  href="/trends"
                />
                <Card
                  label="SLA breaches"
                  value={formatNumber(breaches)}
                  words={breaches ? `${breaches} open findings past their SLA` : 'none past their SLA'}
                  state={breaches > 0 ? 'bad' : 'ok'}
                />
              </ul>
              <LineChart
                id="overview-trend"
                title={`Open findings, last ${OVERVIEW_DAYS} days`}
                summary={trendSummary(f.trend)}
                labels={f.trend.map((p) => p.date)}
                series={[
                  { label: 'Critical', values: f.trend.map((p) => p.critical), colour: '#8b0000' },
                  { label: 'High', values: f.trend.map((p) => p.high), colour: '#c2410c' },
                  { label: 'Medium', values: f.trend.map((p) => p.medium), colour: '#a16207' },
                ]}
              />
              <Table<ImageSummary>
                caption="The 10 riskiest current images"
                rows={f.riskiest}
                rowKey={(i) => i.digest}
                columns={[
                  {
                    key: 'image',
                    label: 'Image',
                    render: (i) => (
                      <a
                        href={`/images/${i.digest}`}
                      >{`${i.repository ?? '(no repository)'}${i.tags[0] ? `:${i.tags[0]}` : ''}`}</a>
                    ),
                  },
                  { key: 'digest', label: 'Digest', render: (i) => <code>{shortDigest(i.digest)}</code> },
                  { key: 'counts', label: 'Findings', render: (i) => <SeverityCounts counts={i.counts} /> },
                  {
                    key: 'risk',
                    label: 'Risk index',
                    numeric: true,
                    render: (i) => formatNumber(i.riskIndex, 1),
                    sort: (i) => i.riskIndex,
                  },
                  { key: 'age', label: 'Ingested', render: (i) => agoText(formatAge(i.ingestedAt, now)) },
                ]}
              />
            </>
          );
        }}
      </Show>
    </section>
  );
}
