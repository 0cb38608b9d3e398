import { api, type Page } from '../api.js';
import type { PageProps } from '../app.js';
import { Show, useLoad } from '../components/load.js';
import { Table } from '../components/table.js';
import { formatTime } from '../format.js';

interface RepositorySummary {
  id: string;
  name: string;
  sourceRepo: string | null;
  createdAt: string;
  archived: boolean;
  currentImages: number;
}

export default function Repositories(props: PageProps) {
  const name = props.location.query.get('name') ?? '';
  const [page] = useLoad(
    (signal) => api<Page<RepositorySummary>>('/repositories', { query: { name, limit: 200 }, signal }),
    [name],
  );
  return (
    <section>
      <h1>Repositories</h1>
      <Show loaded={page} what="repositories">
        {(p) => (
          <Table<RepositorySummary>
            caption={`Repositories (${p.total.count})`}
            rows={p.items}
            rowKey={(r) => r.id}
            columns={[
              {
                key: 'name',
                label: 'Repository',
                render: (r) => <a href={`/repositories/${encodeURIComponent(r.id)}`}>{r.name}</a>,
                sort: (r) => r.name,
              },
              { key: 'source', label: 'Source', render: (r) => r.sourceRepo ?? '—' },
              {
                key: 'current',
                label: 'Current images',
                numeric: true,
                render: (r) => r.currentImages,
                sort: (r) => r.currentImages,
              },
              { key: 'created', label: 'Since', render: (r) => formatTime(r.createdAt), sort: (r) => r.createdAt },
              { key: 'archived', label: 'Archived', render: (r) => (r.archived ? 'yes' : 'no') },
            ]}
          />
        )}
      </Show>
    </section>
  );
}
