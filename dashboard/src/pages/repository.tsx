// One repository: its tags and where each pointed over time, the current digest per track, and the fixes its
// builds shipped (which commit fixed which CVE, and how long it took).
import { api } from '../api.js';
import type { PageProps } from '../app.js';
import { Show, useLoad } from '../components/load.js';
import { SeverityBadge } from '../components/severity.js';
import { Table } from '../components/table.js';
import { formatNumber, formatTime, shortDigest } from '../format.js';

interface RepositoryDetail {
  id: string;
  name: string;
  sourceRepo: string | null;
  tracks?: { track: string; current: string | null }[];
  tags: {
    name: string;
    current: string | null;
    movedAt: string | null;
    history: { digest: string; from: string; to: string | null }[];
  }[];
}

interface Fix {
  vulnerability: string;
  package: string;
  resolvedAt: string;
  resolvedIn: string;
  packageChange: { from: string | null; to: string | null } | null;
  build: { commit: string | null; ref: string | null; runUrl: string | null } | null;
  timeToFixDays: number | null;
  kind?: string;
}

/** GET /repositories/{id}/exposures: one open → resolved run of a vulnerable package on a track. */
interface Exposure {
  vulnerability: string;
  severity: string;
  package: string;
  track: string;
  state: 'open' | 'resolved';
  openedAt: string;
  openedIn: string;
  resolvedAt: string | null;
  resolvedIn: string | null;
  packageFrom: string;
  packageTo: string | null;
  regression: boolean;
}

export default function Repository(props: PageProps) {
  const id = props.params.id ?? '';
  const [repo] = useLoad(
    (signal) => api<RepositoryDetail>(`/repositories/${encodeURIComponent(id)}`, { signal }),
    [id],
  );
  const [fixes] = useLoad(
    (signal) => api<{ items: Fix[] }>('/fixes', { query: { repository: id, limit: 200 }, signal }),
    [id],
  );
  const [exposures] = useLoad(
    (signal) =>
      api<{ items: Exposure[] }>(`/repositories/${encodeURIComponent(id)}/exposures`, {
        query: { limit: 200 },
        signal,
      }),
    [id],
  );
  return (
    <section>
      <Show loaded={repo} what="the repository">
        {(r) => (
          <>
            <h1>{r.name}</h1>
            <p>Source: {r.sourceRepo ?? 'unknown'}</p>
            <Table
              caption="Tags and their history"
              rows={r.tags}
              rowKey={(t) => t.name}
              columns={[
                { key: 'tag', label: 'Tag', render: (t) => t.name, sort: (t) => t.name },
                {
                  key: 'current',
                  label: 'Points at',
                  render: (t) =>
                    t.current ? (
                      <a href={`/images/${t.current}`}>
                        <code>{shortDigest(t.current)}</code>
                      </a>
                    ) : (
                      '—'
                    ),
                },
                { key: 'moved', label: 'Moved', render: (t) => formatTime(t.movedAt), sort: (t) => t.movedAt },
                {
                  key: 'history',
                  label: 'Earlier digests',
                  render: (t) =>
                    t.history
                      .filter((h) => h.to !== null)
                      .map((h) => `${shortDigest(h.digest)} (${h.from.slice(0, 10)} → ${h.to?.slice(0, 10)})`)
                      .join(', ') || '—',
                },
              ]}
            />
          </>
        )}
      </Show>
      <h2>Exposures</h2>
      <Show loaded={exposures} what="exposures">
        {(e) => (
          <Table<Exposure>
            caption={`Exposures: ${e.items.filter((x) => x.state === 'open').length} open, ${e.items.filter((x) => x.state === 'resolved').length} resolved (newest first)`}
            rows={e.items}
            rowKey={(x) => `${x.track} ${x.vulnerability} ${x.package} ${x.openedAt}`}
            columns={[
              {
                key: 'vuln',
                label: 'Vulnerability',
                render: (x) => <a href={`/vulns/${encodeURIComponent(x.vulnerability)}`}>{x.vulnerability}</a>,
              },
              { key: 'sev', label: 'Severity', render: (x) => <SeverityBadge severity={x.severity} /> },
              { key: 'pkg', label: 'Package', render: (x) => `${x.package} ${x.packageFrom}` },
              {
                key: 'state',
                label: 'State',
                render: (x) => (
                  <span data-exposure-state={x.state}>
                    {x.state}
                    {x.regression ? ' (came back)' : ''}
                  </span>
                ),
                sort: (x) => x.state,
              },
              { key: 'opened', label: 'Opened', render: (x) => formatTime(x.openedAt), sort: (x) => x.openedAt },
              {
                key: 'resolved',
                label: 'Resolved',
                render: (x) =>
                  x.resolvedIn ? (
                    <a href={`/images/${x.resolvedIn}`}>
                      {formatTime(x.resolvedAt)} in <code>{shortDigest(x.resolvedIn)}</code>
                    </a>
                  ) : (
                    '—'
                  ),
                sort: (x) => x.resolvedAt,
              },
            ]}
          />
        )}
      </Show>
      <h2>Fixes</h2>
      <Show loaded={fixes} what="fixes">
        {(f) => (
          <Table<Fix>
            caption="Vulnerabilities fixed by a build of this repository"
            rows={f.items}
            rowKey={(x) => `${x.vulnerability} ${x.package} ${x.resolvedIn}`}
            columns={[
              {
                key: 'vuln',
                label: 'Vulnerability',
                render: (x) => <a href={`/vulns/${encodeURIComponent(x.vulnerability)}`}>{x.vulnerability}</a>,
              },
              {
                key: 'pkg',
                label: 'Package change',
                render: (x) => `${x.package} ${x.packageChange?.from ?? '?'} → ${x.packageChange?.to ?? 'removed'}`,
              },
              { key: 'commit', label: 'Commit', render: (x) => <code>{x.build?.commit?.slice(0, 12) ?? '—'}</code> },
              {
                key: 'in',
                label: 'Fixed in',
                render: (x) => (
                  <a href={`/images/${x.resolvedIn}`}>
                    <code>{shortDigest(x.resolvedIn)}</code>
                  </a>
                ),
              },
              { key: 'kind', label: 'Kind', render: (x) => x.kind ?? '—' },
              {
                key: 'ttf',
                label: 'Days to fix',
                numeric: true,
                render: (x) => formatNumber(x.timeToFixDays, 1),
                sort: (x) => x.timeToFixDays,
              },
            ]}
          />
        )}
      </Show>
    </section>
  );
}
