// Trusted keys: the public keys the evidence scorecard verifies provenance and image signatures with, each for all
// repositories or a pattern. Adding or removing one applies to ingests from then on (the server records an event).
import { api, type Page } from '../../api.js';
import { field, OutcomeText, useAction } from '../../components/action.js';
import { Show, useLoad } from '../../components/load.js';
import { Table } from '../../components/table.js';
import { formatTime } from '../../format.js';

interface TrustedKey {
  id: string;
  algorithm: string;
  bits?: number;
  fingerprint: string;
  repositoryPattern: string;
  createdAt: string;
  revokedAt: string | null;
}

export function TrustedKeysSection() {
  const [keys, reload] = useLoad((signal) => api<Page<TrustedKey>>('/trusted-keys', { signal }), []);
  const [outcome, run] = useAction();
  const add = (event: Event) => {
    event.preventDefault();
    const formElement = event.currentTarget as HTMLFormElement;
    const form = new FormData(formElement);
    void run(async () => {
      const key = await api<TrustedKey>('/trusted-keys', {
        method: 'POST',
        body: { publicKey: field(form, 'publicKey'), repositoryPattern: field(form, 'repositoryPattern') || '*' },
      });
      formElement.reset();
      reload();
      return `Trusted ${key.id} (${key.algorithm}) for ${key.repositoryPattern}.`;
    });
  };
  const remove = (key: TrustedKey) =>
    void run(async () => {
      await api(`/trusted-keys/${encodeURIComponent(key.id)}`, { method: 'DELETE' });
      reload();
      return `Removed ${key.id}: later ingests no longer verify with it.`;
    });
  return (
    <>
      <Show loaded={keys} what="trusted keys">
        {(page) => (
          <Table<TrustedKey>
            caption="Trusted keys"
            rows={page.items}
            rowKey={(k) => k.id}
            empty="No trusted key: signatures cannot be verified yet."
            columns={[
              { key: 'id', label: 'Key id', render: (k) => <code>{k.id}</code>, sort: (k) => k.id },
              {
                key: 'algorithm',
                label: 'Algorithm',
                render: (k) => (k.bits ? `${k.algorithm} ${k.bits} bits` : k.algorithm),
              },
              { key: 'fingerprint', label: 'Fingerprint', render: (k) => <code class="wrap">{k.fingerprint}</code> },
              { key: 'pattern', label: 'Repositories', render: (k) => k.repositoryPattern },
              { key: 'added', label: 'Added', render: (k) => formatTime(k.createdAt), sort: (k) => k.createdAt },
              {
                key: 'remove',
                label: 'Remove',
                render: (k) => (
                  <button type="button" onClick={() => remove(k)} aria-label={`Remove the trusted key ${k.id}`}>
                    Remove
                  </button>
                ),
              },
            ]}
          />
        )}
      </Show>
      <form class="settings-form" onSubmit={add} aria-label="Add a trusted key">
        <div>
          <label for="k-pem">Public key (PEM, as cosign generate-key-pair writes it)</label>
          <textarea
            id="k-pem"
            name="publicKey"
            rows={5}
            cols={66}
            required
            spellcheck={false}
            placeholder="-----BEGIN PUBLIC KEY-----"
          />
        </div>
        <div>
          <label for="k-pattern">For repositories (glob)</label>
          <input id="k-pattern" name="repositoryPattern" defaultValue="*" />
        </div>
        <div>
          <button type="submit" disabled={outcome.kind === 'busy'}>
            Add key
          </button>
        </div>
      </form>
      <OutcomeText outcome={outcome} />
    </>
  );
}
