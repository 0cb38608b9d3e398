// The state of every current image at a glance: cards coloured by thresholds (each with its number in words), the
// weekly summary's risk index and direction, and the ten riskiest images.
import { api, type Page } from '../api.js';
import type { PageProps } from '../app.js';
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
}

interface Fleet {
  cards: OverviewCards;
  riskiest: ImageSummary[];
  summary: WeeklySummary | undefined;
}

async function loadFleet(signal: AbortSignal): Promise<Fleet> {
  // The cards come from the server's own counters (never re-added here from a page of images, which would drift
  // from the API's numbers once the fleet is larger than a page); the table is the first page sorted by risk.
  const [cards, riskiest, summary] = await Promise.all([
    api<OverviewCards>('/overview', { signal }),
    api<Page<ImageSummary>>('/images', { query: { current: true, sort: '-riskIndex', limit: 10 }, signal }),
    // the weekly summary is optional (a server without one yet answers 404): the card then says so
    api<WeeklySummary>('/summaries/weekly/latest', { signal }).catch(() => undefined),
  ]);
  return { cards, riskiest: riskiest.items, summary };
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

export default function Overview(_props: PageProps) {
  const [fleet] = useLoad(loadFleet, []);
  return (
    <section>
      <h1>Overview</h1>
      <Show loaded={fleet} what="the fleet">
        {(f) => {
          const c = f.cards;
          const now = Date.now();
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
              </ul>
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
