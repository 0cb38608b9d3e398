// Exceptions: every suppression has a reason, an owner and an expiry (made one at a time from an image's findings
// tab, or many at once by importing a VEX document: OpenVEX or CycloneDX, whose not-affected statements become
// exceptions with the statement's justification as the reason and the expiry given here).
import { useState } from 'preact/hooks';
import { api, type Page } from '../api.js';
import type { PageProps } from '../app.js';
import { field, OutcomeText, useAction } from '../components/action.js';
import { Show, useLoad } from '../components/load.js';
import { Table } from '../components/table.js';
import { dateToUtc, formatTime, shortDigest } from '../format.js';

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
  const [page, reload] = useLoad((signal) => api<Page<ExceptionRow>>('/exceptions?limit=200', { signal }), []);
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
      <VexImport onImported={reload} />
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

interface VexResult {
  format: 'openvex' | 'cyclonedx';
  statements: number;
  applied: {
    vulnerability: string;
    product: string;
    repository: string;
    imageDigest: string | null;
    package: string | null;
    status: string;
    exception: string;
    created: boolean;
    suppressedFindings: number;
  }[];
  unmatched: { vulnerability: string; product: string | null; status: string; reason: string }[];
}

/** The largest document read from a file here (the server caps the request body; this fails earlier and clearly). */
const MAX_VEX_BYTES = 5 * 1024 * 1024;

function VexImport(props: { onImported: () => void }) {
  const [outcome, run] = useAction();
  const [result, setResult] = useState<VexResult>();
  const [text, setText] = useState('');
  const pick = async (event: Event) => {
    const file = (event.currentTarget as HTMLInputElement).files?.[0];
    if (!file) return;
    if (file.size > MAX_VEX_BYTES) {
      void run(async () => {
        throw new Error(`${file.name} is ${Math.round(file.size / 1024)} KiB: at most 5 MiB can be imported`);
      });
      return;
    }
    setText(await file.text());
  };
  const submit = (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    setResult(undefined);
    void run(async () => {
      let document: unknown;
      try {
        document = JSON.parse(text);
      } catch {
        throw new Error('the VEX document is not JSON (OpenVEX or CycloneDX JSON is expected)');
      }
      const expiresAt = dateToUtc(field(form, 'expires'));
      if (!expiresAt) throw new Error('an expiry date is required');
      const repository = field(form, 'repository');
      const answer = await api<VexResult>('/vex', {
        method: 'POST',
        body: { document, expiresAt, ...(repository ? { repository } : {}) },
      });
      setResult(answer);
      props.onImported();
      const suppressed = answer.applied.reduce((sum, a) => sum + a.suppressedFindings, 0);
      return `Imported ${answer.format === 'openvex' ? 'an OpenVEX' : 'a CycloneDX'} document of ${answer.statements} statements: ${answer.applied.length} applied (${suppressed} findings suppressed), ${answer.unmatched.length} matched nothing.`;
    });
  };
  return (
    <section aria-labelledby="vex-title">
      <h2 id="vex-title">Import VEX</h2>
      <form class="settings-form" onSubmit={submit} aria-label="Import a VEX document">
        <div>
          <label for="vex-file">VEX file (OpenVEX 0.2 or CycloneDX 1.4 to 1.6 JSON)</label>
          <input id="vex-file" type="file" accept=".json,application/json" onChange={pick} />
        </div>
        <div>
          <label for="vex-text">VEX document (or paste it here)</label>
          <textarea
            id="vex-text"
            name="document"
            rows={6}
            cols={80}
            required
            spellcheck={false}
            value={text}
            onInput={(event) => setText((event.currentTarget as HTMLTextAreaElement).value)}
          />
        </div>
        <div class="pair">
          <div>
            <label for="vex-expires">Exceptions expire on (required)</label>
            <input id="vex-expires" name="expires" type="date" required />
          </div>
          <div>
            <label for="vex-repository">Only this repository (optional)</label>
            <input id="vex-repository" name="repository" size={40} />
          </div>
        </div>
        <div>
          <button type="submit" disabled={outcome.kind === 'busy'}>
            Import VEX
          </button>
        </div>
      </form>
      <OutcomeText outcome={outcome} />
      {result && (
        <div class="vex-result" data-vex-result>
          <Table
            caption="Applied statements"
            rows={result.applied}
            rowKey={(a) => `${a.exception}-${a.product}`}
            empty="No statement applied."
            columns={[
              { key: 'vuln', label: 'Vulnerability', render: (a) => a.vulnerability },
              { key: 'status', label: 'Status', render: (a) => a.status },
              {
                key: 'scope',
                label: 'Applies to',
                render: (a) => (a.imageDigest ? `${a.repository}@${shortDigest(a.imageDigest)}` : a.repository),
              },
              { key: 'pkg', label: 'Package', render: (a) => a.package ?? 'any' },
              {
                key: 'suppressed',
                label: 'Suppressed findings',
                numeric: true,
                render: (a) => String(a.suppressedFindings),
              },
              { key: 'new', label: 'New exception', render: (a) => (a.created ? 'yes' : 'already covered') },
            ]}
          />
          <Table
            caption="Statements that matched nothing"
            rows={result.unmatched}
            rowKey={(u) => `${u.vulnerability}-${u.product ?? ''}-${u.reason}`}
            empty="Every statement matched."
            columns={[
              { key: 'vuln', label: 'Vulnerability', render: (u) => u.vulnerability },
              { key: 'product', label: 'Product', render: (u) => <code class="wrap">{u.product ?? '—'}</code> },
              { key: 'status', label: 'Status', render: (u) => u.status },
              { key: 'reason', label: 'Why', render: (u) => u.reason },
            ]}
          />
        </div>
      )}
    </section>
  );
}
