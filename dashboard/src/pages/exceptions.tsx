// Exceptions: every suppression has a reason, an owner and an expiry (made from an image's findings tab).
import { useState } from 'preact/hooks';
import { api, type Page } from '../api.js';
import type { PageProps } from '../app.js';
import { Show, useLoad } from '../components/load.js';
import { Table } from '../components/table.js';
import { formatTime, shortDigest } from '../format.js';

interface ExceptionRow {
  id: string;
  vulnerability: string;
  repository: string;
  imageDigest: string | null;
  package: string | null;
  status: string;
  reason: string;
  expiresAt: string;
  source: string;
  suppressedFindings: number;
}

export default function Exceptions(_props: PageProps) {
  const [page, reload] = useLoad((signal) => api<Page<ExceptionRow>>('/exceptions', { signal }), []);
  const [message, setMessage] = useState<string>();
  const revoke = async (id: string) => {
    await api(`/exceptions/${encodeURIComponent(id)}`, { method: 'DELETE' }).catch((err: Error) =>
      setMessage(err.message),
    );
    reload();
  };
  return (
    <section>
      <h1>Exceptions</h1>
      {message && <p role="status">{message}</p>}
      <Show loaded={page} what="exceptions">
        {(p) => (
          <Table<ExceptionRow>
            caption="Active exceptions"
            rows={p.items}
            rowKey={(e) => e.id}
            columns={[
              { key: 'vuln', label: 'Vulnerability', render: (e) => e.vulnerability, sort: (e) => e.vulnerability },
              {
                key: 'scope',
                label: 'Applies to',
                render: (e) => (e.imageDigest ? `${e.repository}@${shortDigest(e.imageDigest)}` : e.repository),
              },
              { key: 'pkg', label: 'Package', render: (e) => e.package ?? 'any' },
              {
                key: 'findings',
                label: 'Suppressed findings',
                numeric: true,
                render: (e) => String(e.suppressedFindings),
              },
              { key: 'status', label: 'Status', render: (e) => e.status },
              { key: 'reason', label: 'Reason', render: (e) => e.reason },
              { key: 'expires', label: 'Expires', render: (e) => formatTime(e.expiresAt), sort: (e) => e.expiresAt },
              {
                key: 'revoke',
                label: 'Revoke',
                render: (e) => (
                  <button
                    type="button"
                    onClick={() => revoke(e.id)}
                    aria-label={`Revoke the exception for ${e.vulnerability}`}
                  >
                    Revoke
                  </button>
                ),
              },
            ]}
          />
        )}
      </Show>
    </section>
  );
}
