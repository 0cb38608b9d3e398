// Open findings per day and the fleet's time to fix, as charts with their data as tables.
import { api } from '../api.js';
import type { PageProps } from '../app.js';
import { LineChart } from '../components/chart.js';
import { Show, useLoad } from '../components/load.js';
import { Table } from '../components/table.js';
import { formatNumber } from '../format.js';
import { withQuery } from '../router.js';

interface TrendPoint {
  date: string;
  critical: number;
  high: number;
  medium: number;
  low: number;
  unknown: number;
  newFindings: number;
  resolvedFindings: number;
  riskIndex: number;
}

interface Metrics {
  mttrDays: Record<string, { meanDays: number | null; medianDays: number | null; p90Days: number | null; n: number }>;
  sla: {
    targetsDays: Record<string, number>;
    openBreaches: Record<string, number> | number;
    resolvedLate: Record<string, number> | number;
  };
  density: { perImage: number | null; per100Packages: number | null };
  exposures: { open: number; opened: number; resolved: number; reopened: number };
}

export default function Trends(props: PageProps) {
  const scope = props.location.query.get('scope') ?? 'fleet';
  const interval = props.location.query.get('interval') ?? 'day';
  const [trend] = useLoad(
    (signal) => api<{ points: TrendPoint[] }>('/trends', { query: { scope, interval }, signal }),
    [scope, interval],
  );
  const [metrics] = useLoad((signal) => api<Metrics>('/metrics', { query: { scope, window: '90d' }, signal }), [scope]);
  return (
    <section>
      <h1>Trends</h1>
      <p>
        Interval:{' '}
        <a href={withQuery(props.location, { interval: 'day' })} aria-current={interval === 'day' ? 'true' : undefined}>
          daily
        </a>{' '}
        ·{' '}
        <a
          href={withQuery(props.location, { interval: 'week' })}
          aria-current={interval === 'week' ? 'true' : undefined}
        >
          weekly
        </a>
      </p>
      <Show loaded={trend} what="the trend">
        {(t) => {
          const last = t.points[t.points.length - 1];
          return (
            <LineChart
              id="open-findings"
              title="Open findings per day"
              summary={
                last
                  ? `On ${last.date}: ${last.critical} critical, ${last.high} high and ${last.medium} medium open findings, over ${t.points.length} points.`
                  : 'No data points yet.'
              }
              labels={t.points.map((p) => p.date)}
              series={[
                { label: 'Critical', values: t.points.map((p) => p.critical), colour: '#8b0000' },
                { label: 'High', values: t.points.map((p) => p.high), colour: '#c2410c' },
                { label: 'Medium', values: t.points.map((p) => p.medium), colour: '#a16207' },
              ]}
            />
          );
        }}
      </Show>
      <h2>Time to fix (last 90 days)</h2>
      <Show loaded={metrics} what="metrics">
        {(m) => (
          <Table
            caption="Mean time to remediate per severity, from exposure episodes"
            rows={Object.entries(m.mttrDays).map(([severity, v]) => ({ severity, ...v }))}
            rowKey={(r) => r.severity}
            columns={[
              { key: 's', label: 'Severity', render: (r) => r.severity },
              { key: 'mean', label: 'Mean (days)', numeric: true, render: (r) => formatNumber(r.meanDays, 1) },
              { key: 'median', label: 'Median (days)', numeric: true, render: (r) => formatNumber(r.medianDays, 1) },
              { key: 'p90', label: 'p90 (days)', numeric: true, render: (r) => formatNumber(r.p90Days, 1) },
              { key: 'n', label: 'Resolved', numeric: true, render: (r) => r.n },
            ]}
          />
        )}
      </Show>
    </section>
  );
}
