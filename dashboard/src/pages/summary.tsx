// The weekly security summary (version 3), as published by the server, with a link to the document itself.
import { ApiError, api, apiPath } from '../api.js';
import type { PageProps } from '../app.js';
import { Show, useLoad } from '../components/load.js';
import { SeverityCounts } from '../components/severity.js';
import { Table } from '../components/table.js';
import { formatNumber, formatTime } from '../format.js';
import type { WeeklySummary } from '../types.js';

export default function Summary(_props: PageProps) {
  // a server younger than its first complete week has none yet (404): that is a state, not an error
  const [summary] = useLoad(
    (signal) =>
      api<WeeklySummary>('/summaries/weekly/latest', { signal }).catch((err: unknown) => {
        if (err instanceof ApiError && err.status === 404) return null;
        throw err;
      }),
    [],
  );
  return (
    <section>
      <h1>Weekly summary</h1>
      <Show loaded={summary} what="the weekly summary">
        {(s) =>
          s === null ? (
            <p>No weekly summary yet: the first is made after the server's first complete week (Monday to Sunday).</p>
          ) : (
            <>
              <p>
                Week {s.period.start.slice(0, 10)} to {s.period.end.slice(0, 10)}, generated {formatTime(s.generatedAt)}
                . Risk index <strong>{formatNumber(s.riskIndex, 1)}</strong>, direction <strong>{s.direction}</strong>.{' '}
                <a href={apiPath('/summaries/weekly/latest')} download="security-summary.json">
                  Download the JSON document
                </a>
              </p>
              <p>
                Totals: <SeverityCounts counts={s.totals} />; change since last week:{' '}
                <SeverityCounts counts={s.delta} />
              </p>
              <Table
                caption="Current findings per repository"
                rows={s.images}
                rowKey={(i) => i.name}
                columns={[
                  { key: 'name', label: 'Repository', render: (i) => i.name, sort: (i) => i.name },
                  { key: 'c', label: 'Critical', numeric: true, render: (i) => i.critical, sort: (i) => i.critical },
                  { key: 'h', label: 'High', numeric: true, render: (i) => i.high, sort: (i) => i.high },
                  { key: 'm', label: 'Medium', numeric: true, render: (i) => i.medium, sort: (i) => i.medium },
                  { key: 'l', label: 'Low', numeric: true, render: (i) => i.low },
                  { key: 'u', label: 'Unknown', numeric: true, render: (i) => i.unknown },
                ]}
              />
              <p class="note">{s.riskIndexMethod}</p>
            </>
          )
        }
      </Show>
    </section>
  );
}
