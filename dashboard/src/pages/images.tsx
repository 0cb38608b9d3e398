// Every image, filtered and sorted on the server (the filters live in the URL), a page at a time.
import { api, type Page } from '../api.js';
import type { PageProps } from '../app.js';
import { Show, useLoad } from '../components/load.js';
import { SeverityCounts } from '../components/severity.js';
import { Table } from '../components/table.js';
import { formatNumber, formatTime, shortDigest } from '../format.js';
import { navigate, withQuery } from '../router.js';
import type { ImageSummary } from '../types.js';

const FILTERS = ['q', 'repository', 'minSeverity', 'kev', 'evidence', 'current', 'sort', 'page_token'] as const;

export default function Images(props: PageProps) {
  const query = props.location.query;
  const params = Object.fromEntries(FILTERS.map((f) => [f, query.get(f) ?? undefined]));
  const key = FILTERS.map((f) => params[f] ?? '').join('\u0000');
  const [page] = useLoad(
    (signal) => api<Page<ImageSummary>>('/images', { query: { limit: 50, ...params }, signal }),
    [key],
  );
  const apply = (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const changes: Record<string, string | undefined> = { page_token: undefined };
    for (const name of ['q', 'repository', 'minSeverity', 'evidence', 'sort'])
      changes[name] = String(form.get(name) ?? '') || undefined;
    changes.kev = form.get('kev') ? 'true' : undefined;
    changes.current = form.get('current') ? 'true' : undefined;
    navigate(withQuery(props.location, changes));
  };
  return (
    <section>
      <h1>Images</h1>
      <form class="filters" onSubmit={apply} aria-label="Filter images">
        <div>
          <label for="f-q">Name, tag or digest</label>
          <input id="f-q" name="q" type="search" defaultValue={params.q ?? ''} />
        </div>
        <div>
          <label for="f-repo">Repository (glob)</label>
          <input id="f-repo" name="repository" defaultValue={params.repository ?? ''} placeholder="ghcr.io/acme/*" />
        </div>
        <div>
          <label for="f-sev">At least</label>
          <select id="f-sev" name="minSeverity">
            <option value="" selected={(params.minSeverity ?? '') === ''}>
              any severity
            </option>
            <option value="critical" selected={(params.minSeverity ?? '') === 'critical'}>
              critical
            </option>
            <option value="high" selected={(params.minSeverity ?? '') === 'high'}>
              high
            </option>
            <option value="medium" selected={(params.minSeverity ?? '') === 'medium'}>
              medium
            </option>
            <option value="low" selected={(params.minSeverity ?? '') === 'low'}>
              low
            </option>
          </select>
        </div>
        <div>
          <label for="f-evidence">Evidence</label>
          <select id="f-evidence" name="evidence">
            <option value="" selected={(params.evidence ?? '') === ''}>
              any
            </option>
            <option value="verified" selected={(params.evidence ?? '') === 'verified'}>
              verified
            </option>
            <option value="partial" selected={(params.evidence ?? '') === 'partial'}>
              partial
            </option>
            <option value="failed" selected={(params.evidence ?? '') === 'failed'}>
              failed
            </option>
            <option value="none" selected={(params.evidence ?? '') === 'none'}>
              none
            </option>
          </select>
        </div>
        <div>
          <label for="f-sort">Sort by</label>
          <select id="f-sort" name="sort">
            <option value="-riskIndex" selected={(params.sort ?? '-riskIndex') === '-riskIndex'}>
              risk, highest first
            </option>
            <option value="-ingestedAt" selected={(params.sort ?? '-riskIndex') === '-ingestedAt'}>
              newest first
            </option>
            <option value="ingestedAt" selected={(params.sort ?? '-riskIndex') === 'ingestedAt'}>
              oldest first
            </option>
          </select>
        </div>
        <div class="checks">
          <label>
            <input type="checkbox" name="kev" defaultChecked={params.kev === 'true'} /> known exploited (KEV)
          </label>
          <label>
            <input type="checkbox" name="current" defaultChecked={params.current === 'true'} /> current images only
          </label>
        </div>
        <button type="submit">Apply</button>
      </form>
      <Show loaded={page} what="images">
        {(p) => (
          <>
            <p aria-live="polite">
              {p.total.type === 'EXACT' ? '' : 'at least '}
              {formatNumber(p.total.count)} images
            </p>
            <Table<ImageSummary>
              caption="Images"
              rows={p.items}
              rowKey={(i) => i.digest}
              columns={[
                {
                  key: 'repository',
                  label: 'Repository',
                  render: (i) => <a href={`/images/${i.digest}`}>{i.repository ?? '(none)'}</a>,
                  sort: (i) => i.repository,
                },
                { key: 'tags', label: 'Tags', render: (i) => i.tags.join(', ') || '—' },
                {
                  key: 'digest',
                  label: 'Digest',
                  render: (i) => <code title={i.digest}>{shortDigest(i.digest)}</code>,
                },
                { key: 'platform', label: 'Platform', render: (i) => i.platform },
                { key: 'counts', label: 'Findings', render: (i) => <SeverityCounts counts={i.counts} /> },
                {
                  key: 'risk',
                  label: 'Risk index',
                  numeric: true,
                  render: (i) => formatNumber(i.riskIndex, 1),
                  sort: (i) => i.riskIndex,
                },
                {
                  key: 'evidence',
                  label: 'Evidence',
                  render: (i) => `${i.evidence.state} (${i.evidence.score}/${i.evidence.max})`,
                  sort: (i) => i.evidence.state,
                },
                {
                  key: 'ingested',
                  label: 'Ingested',
                  render: (i) => formatTime(i.ingestedAt),
                  sort: (i) => i.ingestedAt,
                },
              ]}
            />
            {p.next_page_token && (
              <a class="next" href={withQuery(props.location, { page_token: p.next_page_token })}>
                Next page
              </a>
            )}
          </>
        )}
      </Show>
    </section>
  );
}
