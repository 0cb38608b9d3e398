// Repositories and thresholds: one repository's verification policy (off | warn | enforce, and the builders, sources,
// refs and keys it accepts) and the severity thresholds its cards are judged by. The repository picked is in the URL
// (`?repository=`), so the view can be bookmarked.
import { api, type Page } from '../../api.js';
import { field, OutcomeText, useAction } from '../../components/action.js';
import { Show, useLoad } from '../../components/load.js';
import { listOf } from '../../format.js';
import { type Location, navigate, withQuery } from '../../router.js';

interface RepositoryRow {
  id: string;
  name: string;
  currentImages: number;
}

type Threshold = 'critical' | 'high' | 'medium' | 'low' | 'none';

export interface RepositorySettings {
  repository: string;
  verification: {
    mode: 'off' | 'warn' | 'enforce';
    keys: string[];
    allowedBuilders: string[];
    sourceRepos: string[];
    refs: string[];
  };
  thresholds: { failOn: Threshold; warnOn: Threshold };
}

const MODES = [
  ['off', 'off: evidence is not checked'],
  ['warn', 'warn: checked and shown, never blocks'],
  ['enforce', 'enforce: an image without verified evidence is quarantined'],
] as const;
const THRESHOLDS: readonly Threshold[] = ['critical', 'high', 'medium', 'low', 'none'];

export function RepositorySettingsSection(props: { location: Location }) {
  const [repositories] = useLoad(
    (signal) => api<Page<RepositoryRow>>('/repositories', { signal, query: { limit: 200 } }),
    [],
  );
  return (
    <Show loaded={repositories} what="repositories">
      {(page) =>
        page.items.length === 0 ? (
          <p>No repository yet: one appears with its first ingest.</p>
        ) : (
          <Chosen repositories={page.items} location={props.location} />
        )
      }
    </Show>
  );
}

function Chosen(props: { repositories: RepositoryRow[]; location: Location }) {
  const wanted = props.location.query.get('repository');
  const chosen = props.repositories.find((r) => r.name === wanted) ?? props.repositories[0];
  const [settings, reload] = useLoad(
    (signal) => api<RepositorySettings>(`/repositories/${encodeURIComponent(chosen?.id ?? '')}/settings`, { signal }),
    [chosen?.id],
  );
  const [outcome, run] = useAction();
  if (!chosen) return null;
  const save = (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const change = {
      verification: {
        mode: field(form, 'mode'),
        keys: listOf(field(form, 'keys')),
        allowedBuilders: listOf(field(form, 'allowedBuilders')),
        sourceRepos: listOf(field(form, 'sourceRepos')),
        refs: listOf(field(form, 'refs')),
      },
      thresholds: { failOn: field(form, 'failOn'), warnOn: field(form, 'warnOn') },
    };
    void run(async () => {
      const saved = await api<RepositorySettings>(`/repositories/${encodeURIComponent(chosen.id)}`, {
        method: 'PATCH',
        body: change,
      });
      reload();
      return `Saved ${saved.repository}: verification ${saved.verification.mode}, fail on ${saved.thresholds.failOn}, warn on ${saved.thresholds.warnOn}.`;
    });
  };
  return (
    <>
      <div class="filters">
        <div>
          <label for="repo-pick">Repository</label>
          <select
            id="repo-pick"
            value={chosen.name}
            onChange={(event) =>
              navigate(withQuery(props.location, { repository: (event.currentTarget as HTMLSelectElement).value }), {
                replace: true,
              })
            }
          >
            {props.repositories.map((r) => (
              <option key={r.id} value={r.name}>
                {r.name}
              </option>
            ))}
          </select>
        </div>
      </div>
      <Show loaded={settings} what="the repository's settings">
        {(s) => (
          <form
            key={`${chosen.id}-${JSON.stringify(s)}`}
            class="settings-form"
            aria-label={`Settings of ${s.repository}`}
            onSubmit={save}
            data-repository-settings={s.repository}
          >
            <p data-current-mode={s.verification.mode}>
              Verification is <strong>{s.verification.mode}</strong>; cards fail on{' '}
              <strong>{s.thresholds.failOn}</strong> and warn on <strong>{s.thresholds.warnOn}</strong>.
            </p>
            <fieldset>
              <legend>Evidence mode</legend>
              {MODES.map(([value, label]) => (
                <label key={value} class="choice">
                  <input type="radio" name="mode" value={value} defaultChecked={s.verification.mode === value} />{' '}
                  {label}
                </label>
              ))}
            </fieldset>
            <div class="pair">
              <div>
                <label for="rs-fail">Fail on (lowest severity)</label>
                <select id="rs-fail" name="failOn">
                  {THRESHOLDS.map((t) => (
                    <option key={t} value={t} selected={s.thresholds.failOn === t}>
                      {t}
                    </option>
                  ))}
                </select>
              </div>
              <div>
                <label for="rs-warn">Warn on (lowest severity)</label>
                <select id="rs-warn" name="warnOn">
                  {THRESHOLDS.map((t) => (
                    <option key={t} value={t} selected={s.thresholds.warnOn === t}>
                      {t}
                    </option>
                  ))}
                </select>
              </div>
            </div>
            <ListField
              id="rs-builders"
              name="allowedBuilders"
              label="Allowed builders (globs, one per line; empty: not checked)"
              value={s.verification.allowedBuilders}
            />
            <ListField
              id="rs-sources"
              name="sourceRepos"
              label="Allowed source repositories (globs; empty: not checked)"
              value={s.verification.sourceRepos}
            />
            <ListField
              id="rs-refs"
              name="refs"
              label="Allowed source refs (globs such as refs/tags/*; empty: not checked)"
              value={s.verification.refs}
            />
            <ListField
              id="rs-keys"
              name="keys"
              label="Only these trusted key ids (empty: every key trusted for the repository)"
              value={s.verification.keys}
            />
            <div>
              <button type="submit" disabled={outcome.kind === 'busy'}>
                Save repository settings
              </button>
            </div>
          </form>
        )}
      </Show>
      <OutcomeText outcome={outcome} />
    </>
  );
}

function ListField(props: { id: string; name: string; label: string; value: string[] }) {
  return (
    <div>
      <label for={props.id}>{props.label}</label>
      <textarea id={props.id} name={props.name} rows={2} cols={60} defaultValue={props.value.join('\n')} />
    </div>
  );
}
