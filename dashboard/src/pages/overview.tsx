// The state of every current image at a glance: cards coloured by thresholds (each with its number in words), the
// weekly summary's risk index and direction, and the ten riskiest images.
import { api, type Page } from '../api.js';
import type { PageProps } from '../app.js';
import { Show, useLoad } from '../components/load.js';
import { SeverityCounts } from '../components/severity.js';
import { Table } from '../components/table.js';
import { type Counts, formatAge, formatNumber, SEVERITIES, shortDigest, thresholdState } from '../format.js';
import type { ImageSummary, WeeklySummary } from '../types.js';

const STALE_MS = 30 * 86_400_000;

interface Fleet {
  images: ImageSummary[];
  complete: boolean;
  summary: WeeklySummary | undefined;
}

async function loadFleet(signal: AbortSignal): Promise<Fleet> {
  const images: ImageSummary[] = [];
  let token: string | null = null;
  // Current images only: at most a few thousand; the cards count them all, so every page is read (10 at most).
  for (let page = 0; page < 10; page += 1) {
    const answer: Page<ImageSummary> = await api<Page<ImageSummary>>('/images', {
      query: { current: true, sort: '-riskIndex', limit: 200, ...(token ? { page_token: token } : {}) },
      signal,
    });
    for (const item of answer.items) images.push(item);
    token = answer.next_page_token;
    if (!token) break;
  }
  const summary = await api<WeeklySummary>('/summaries/weekly/latest', { signal }).catch(() => undefined);
  return { images, complete: token === null, summary };
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

export default function Overview(_props: PageProps) {
  const [fleet] = useLoad(loadFleet, []);
  return (
    <section>
      <h1>Overview</h1>
      <Show loaded={fleet} what="the fleet">
        {(f) => {
          const totals: Counts = { critical: 0, high: 0, medium: 0, low: 0, unknown: 0 };
          for (const image of f.images) for (const s of SEVERITIES) totals[s] += image.counts[s];
          const withCritical = f.images.filter((i) => i.counts.critical > 0).length;
          const verified = f.images.filter((i) => i.evidence.state === 'verified').length;
          const failedEvidence = f.images.filter((i) => i.evidence.state === 'failed').length;
          const now = Date.now();
          const stale = f.images.filter((i) => now - new Date(i.ingestedAt).getTime() > STALE_MS).length;
          const coverage = f.images.length ? Math.round((verified / f.images.length) * 100) : 0;
          return (
            <>
              {!f.complete && <p class="note">Showing the first 2,000 current images.</p>}
              <ul class="cards" aria-label="Fleet state">
                <Card
                  label="Current images"
                  value={formatNumber(f.images.length)}
                  words={`${f.images.length} images with a current tag`}
                  state="none"
                  href="/images?current=true"
                />
                <Card
                  label="Images with CRITICAL"
                  value={formatNumber(withCritical)}
                  words={withCritical ? `${withCritical} images need attention` : 'none'}
                  state={thresholdState(withCritical, { warn: 1, fail: 1 })}
                  href="/images?current=true&minSeverity=critical"
                />
                {SEVERITIES.slice(0, 4).map((s) => (
                  <Card
                    key={s}
                    label={`Open ${s}`}
                    value={formatNumber(totals[s])}
                    words={`${totals[s]} open ${s} findings`}
                    state={
                      s === 'critical' || s === 'high'
                        ? thresholdState(totals[s], { warn: 1, fail: s === 'critical' ? 1 : 10 })
                        : 'none'
                    }
                  />
                ))}
                <Card
                  label="Risk index"
                  value={f.summary ? formatNumber(f.summary.riskIndex, 1) : '—'}
                  words={f.summary ? `direction: ${f.summary.direction}` : 'no weekly summary yet'}
                  state={f.summary ? thresholdState(f.summary.riskIndex, { warn: 25, fail: 50 }) : 'none'}
                  href="/summary"
                />
                <Card
                  label="Evidence coverage"
                  value={`${coverage}%`}
                  words={`${verified} verified, ${failedEvidence} failed`}
                  state={failedEvidence > 0 ? 'bad' : coverage < 80 ? 'warn' : 'ok'}
                  href="/images?current=true&evidence=failed"
                />
                <Card
                  label="Stale images"
                  value={formatNumber(stale)}
                  words={`${stale} not rebuilt in 30 days`}
                  state={stale > 0 ? 'warn' : 'ok'}
                />
              </ul>
              <Table<ImageSummary>
                caption="The 10 riskiest current images"
                rows={f.images.slice(0, 10)}
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
                  { key: 'age', label: 'Ingested', render: (i) => `${formatAge(i.ingestedAt, now)} ago` },
                ]}
              />
            </>
          );
        }}
      </Show>
    </section>
  );
}
