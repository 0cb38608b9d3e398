// Exceptions: every suppression has a reason, an owner and an expiry; VEX documents import as exceptions.
import { useState } from 'preact/hooks';
import { api, type Page } from '../api.js';
import type { PageProps } from '../app.js';
import { Show, useLoad } from '../components/load.js';
import { Table } from '../components/table.js';
import { formatTime } from '../format.js';

interface ExceptionRow {
  id: string;
  vulnerability: string;
  repository: string | null;
  imageDigest: string | null;
  packagePattern: string | null;
  status: string;
  reason: string;
  expiresAt: string;
  createdBy?: string | null;
  source: string;
}

export default function Exceptions(_props: PageProps) {
  const [page, reload] = useLoad(
    (signal) => api<Page<ExceptionRow>>('/exceptions', { query: { limit: 200 }, signal }),
    [],
  );
  const [message, setMessage] = useState<string>();
  const importVex = async (event: Event) => {
    event.preventDefault();
    const input = (event.currentTarget as HTMLFormElement).elements.namedItem('vex') as HTMLInputElement;
    const file = input.files?.[0];
    if (!file) return;
    try {
      const document = JSON.parse(await file.text()) as unknown;
      const answer = await api<{ imported: number }>('/vex', { method: 'POST', body: document });
      setMessage(`Imported ${answer.imported} statements.`);
      reload();
    } catch (err) {
      setMessage(`Import failed: ${(err as Error).message}`);
    }
  };
  const revoke = async (id: string) => {
    await api(`/exceptions/${encodeURIComponent(id)}`, { method: 'DELETE' }).catch((err: Error) =>
      setMessage(err.message),
    );
    reload();
  };
  return (
    <section>
      <h1>Exceptions</h1>
      <form class="inline" onSubmit={importVex}>
        <label for="vex">Import an OpenVEX or CycloneDX VEX document</label>
        <input id="vex" name="vex" type="file" accept="application/json,.json" />
        <button type="submit">Import</button>
      </form>
      {message && <p role="status">{message}</p>}
      <Show loaded={page} what="exceptions">
        {(p) => (
          <Table<ExceptionRow>
            caption="Active exceptions"
            rows={p.items}
            rowKey={(e) => e.id}
            columns={[
              { key: 'vuln', label: 'Vulnerability', render: (e) => e.vulnerability, sort: (e) => e.vulnerability },
              { key: 'scope', label: 'Applies to', render: (e) => e.imageDigest ?? e.repository ?? 'all repositories' },
              { key: 'pkg', label: 'Package', render: (e) => e.packagePattern ?? 'any' },
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
