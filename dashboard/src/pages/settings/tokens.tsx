// API tokens: made here for CI and scripts; the secret is shown once, then only its prefix.
import { useState } from 'preact/hooks';
import { api, type Page } from '../../api.js';
import { Show, useLoad } from '../../components/load.js';
import { Table } from '../../components/table.js';
import { formatTime } from '../../format.js';

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

export function TokensSection() {
  const [tokens, reload] = useLoad((signal) => api<Page<TokenRow>>('/tokens', { signal }), []);
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
    <>
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
    </>
  );
}
