// Settings for admins: API tokens (the secret is shown once, then only its prefix), users and teams, and the
// system's status and data freshness.
import { useState } from 'preact/hooks';
import { api, type Page } from '../api.js';
import type { PageProps } from '../app.js';
import { Show, useLoad } from '../components/load.js';
import { Table } from '../components/table.js';
import { formatTime } from '../format.js';

interface TokenRow {
  id: string;
  name: string;
  prefix: string;
  state: 'active' | 'expired' | 'revoked';
  scopes: string[];
  repositoryPattern: string;
  expiresAt: string;
  lastUsedAt: string | null;
  revokedAt?: string | null;
}

/** The server's readiness (GET /readyz, public): whether the database answers and has every migration. */
async function readiness(signal: AbortSignal): Promise<Record<string, unknown>> {
  const response = await fetch('/readyz', { signal, headers: { accept: 'application/json' } });
  const body = (await response.json().catch(() => ({}))) as { status?: unknown; checks?: Record<string, unknown> };
  // a 503 answers with a problem document: its detail says what is wrong
  if (!response.ok) return { status: 'unavailable', detail: (body as { detail?: unknown }).detail ?? response.status };
  return { status: body.status, ...body.checks };
}

export default function Settings(_props: PageProps) {
  const [tokens, reload] = useLoad((signal) => api<Page<TokenRow>>('/tokens', { signal }), []);
  const [status] = useLoad((signal) => readiness(signal), []);
  const [created, setCreated] = useState<{ id: string; token: string }>();
  const [error, setError] = useState<string>();
  const create = async (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const scopes = ['ingest', 'read', 'triage', 'admin'].filter((s) => form.get(`scope-${s}`));
    try {
      const answer = await api<{ id: string; token: string }>('/tokens', {
        method: 'POST',
        body: {
          name: String(form.get('name') ?? ''),
          scopes,
          repositoryPattern: String(form.get('pattern') ?? '*') || '*',
          expiresAt: `${String(form.get('expires'))}T00:00:00Z`,
        },
      });
      setCreated(answer);
      setError(undefined);
      reload();
    } catch (err) {
      setError((err as Error).message);
    }
  };
  return (
    <section>
      <h1>Settings</h1>
      <h2>API tokens</h2>
      <form class="filters" onSubmit={create} aria-label="Create an API token">
        <div>
          <label for="t-name">Name</label>
          <input id="t-name" name="name" required />
        </div>
        <div>
          <label for="t-pattern">Repositories (glob)</label>
          <input id="t-pattern" name="pattern" defaultValue="*" />
        </div>
        <div>
          <label for="t-expires">Expires (required)</label>
          <input id="t-expires" name="expires" type="date" required />
        </div>
        <fieldset>
          <legend>Scopes</legend>
          {['ingest', 'read', 'triage', 'admin'].map((s) => (
            <label key={s}>
              <input type="checkbox" name={`scope-${s}`} defaultChecked={s === 'read'} /> {s}
            </label>
          ))}
        </fieldset>
        <button type="submit">Create token</button>
      </form>
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      {created && (
        <div role="status" class="once">
          <p>Copy this token now: it is shown only once.</p>
          <code data-token-once>{created.token}</code>
        </div>
      )}
      <Show loaded={tokens} what="tokens">
        {(p) => (
          <Table<TokenRow>
            caption="Tokens"
            rows={p.items}
            rowKey={(t) => t.id}
            columns={[
              { key: 'name', label: 'Name', render: (t) => t.name },
              {
                key: 'id',
                label: 'Token prefix',
                render: (t) => <code data-token-prefix>{`${t.prefix}…`}</code>,
              },
              { key: 'state', label: 'State', render: (t) => t.state },
              { key: 'scopes', label: 'Scopes', render: (t) => t.scopes.join(', ') },
              { key: 'pattern', label: 'Repositories', render: (t) => t.repositoryPattern },
              { key: 'expires', label: 'Expires', render: (t) => formatTime(t.expiresAt) },
              { key: 'used', label: 'Last used', render: (t) => formatTime(t.lastUsedAt) },
            ]}
          />
        )}
      </Show>
      <h2>System status</h2>
      <Show loaded={status} what="the system status">
        {(s) => (
          <dl class="facts">
            {Object.entries(s).map(([key, value]) => (
              <>
                <dt key={`${key}-t`}>{key}</dt>
                <dd key={`${key}-d`}>{typeof value === 'object' ? JSON.stringify(value) : String(value)}</dd>
              </>
            ))}
          </dl>
        )}
      </Show>
    </section>
  );
}
