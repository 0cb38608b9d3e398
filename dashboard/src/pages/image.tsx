// One image by digest: its build, and tabs for findings (with triage), packages, layers, evidence (each check's
// reason), history (the audit log), a diff against the previous or any digest, and its repository's trend.
import { useState } from 'preact/hooks';
import { api, type Page } from '../api.js';
import type { PageProps } from '../app.js';
import { LineChart } from '../components/chart.js';
import { Show, useLoad } from '../components/load.js';
import { SeverityBadge, SeverityCounts } from '../components/severity.js';
import { Table } from '../components/table.js';
import { Tabs } from '../components/tabs.js';
import { formatNumber, formatTime, shortDigest } from '../format.js';
import { navigate, withQuery } from '../router.js';
import type { ImageSummary } from '../types.js';

interface Detail extends ImageSummary {
  os: string | null;
  createdAt: string | null;
  repositories: { id: string; name: string; track: string; current: boolean; tags: string[] }[];
  build: {
    builder: string | null;
    sourceRepo: string | null;
    commit: string | null;
    ref: string | null;
    runUrl: string | null;
  } | null;
}

interface FindingRow {
  id: string;
  aliases: string[];
  summary: string | null;
  severity: string;
  package: { name: string; version: string; type: string; purl: string };
  fixedVersion: string | null;
  status: string;
  kev: boolean;
  epss: number | null;
  firstSeenAt: string;
  exception: { id: string; status: string; reason: string; expiresAt: string } | null;
}

const TABS = [
  { id: 'findings', label: 'Findings' },
  { id: 'packages', label: 'Packages' },
  { id: 'layers', label: 'Layers' },
  { id: 'evidence', label: 'Evidence' },
  { id: 'history', label: 'History' },
  { id: 'diff', label: 'Diff' },
  { id: 'trend', label: 'Trend' },
] as const;

export default function Image(props: PageProps) {
  const digest = props.params.digest ?? '';
  const tab = props.location.query.get('tab') ?? 'findings';
  const [detail] = useLoad((signal) => api<Detail>(`/images/${digest}`, { signal }), [digest]);
  return (
    <section>
      <Show loaded={detail} what="the image">
        {(d) => (
          <>
            <h1>
              {d.repository ?? 'Image'} <code class="digest">{shortDigest(d.digest)}</code>
            </h1>
            <dl class="facts">
              <dt>Digest</dt>
              <dd>
                <code>{d.digest}</code>
              </dd>
              <dt>Tags</dt>
              <dd>{d.tags.join(', ') || '—'}</dd>
              <dt>Platform</dt>
              <dd>{d.platform}</dd>
              <dt>OS</dt>
              <dd>{d.os ?? '—'}</dd>
              <dt>Findings</dt>
              <dd>
                <SeverityCounts counts={d.counts} />
              </dd>
              <dt>Risk index</dt>
              <dd>{formatNumber(d.riskIndex, 1)}</dd>
              <dt>Evidence</dt>
              <dd>
                {d.evidence.state} ({d.evidence.score} of {d.evidence.max} checks)
              </dd>
              <dt>Build</dt>
              <dd>
                {d.build ? (
                  <>
                    {d.evidence.state === 'failed' && (
                      // the facts come from a provenance whose signature did not verify: they may be forged
                      <strong class="untrusted" data-build-untrusted>
                        Unverified (a signature check failed; see Evidence):{' '}
                      </strong>
                    )}
                    {d.build.sourceRepo ?? 'unknown source'} at <code>{d.build.commit?.slice(0, 12) ?? '?'}</code>
                    {d.build.ref ? ` (${d.build.ref})` : ''}{' '}
                    {d.build.runUrl && /^https:\/\//.test(d.build.runUrl) ? (
                      <a href={d.build.runUrl} rel="noreferrer noopener" target="_blank">
                        build run
                      </a>
                    ) : null}
                  </>
                ) : (
                  'no provenance'
                )}
              </dd>
            </dl>
            <Tabs
              label="Image details"
              tabs={TABS}
              selected={tab}
              onSelect={(id) => navigate(withQuery(props.location, { tab: id }), { replace: true })}
            >
              {tab === 'findings' && <Findings digest={d.digest} repository={d.repository} />}
              {tab === 'packages' && <Packages digest={d.digest} />}
              {tab === 'layers' && <Layers digest={d.digest} />}
              {tab === 'evidence' && <Evidence digest={d.digest} />}
              {tab === 'history' && <History digest={d.digest} />}
              {tab === 'diff' && (
                <Diff
                  digest={d.digest}
                  repository={d.repository}
                  against={props.location.query.get('against') ?? 'previous'}
                  onAgainst={(against) => navigate(withQuery(props.location, { tab: 'diff', against }))}
                />
              )}
              {tab === 'trend' && <Trend digest={d.digest} repository={d.repository} />}
            </Tabs>
          </>
        )}
      </Show>
    </section>
  );
}

function Findings(props: { digest: string; repository: string | null }) {
  const [status, setStatus] = useState('open');
  const [page, reload] = useLoad(
    (signal) => api<Page<FindingRow>>(`/images/${props.digest}/findings`, { query: { status, limit: 200 }, signal }),
    [props.digest, status],
  );
  const [triage, setTriage] = useState<FindingRow>();
  return (
    <>
      <label for="finding-status">Status</label>{' '}
      <select
        id="finding-status"
        value={status}
        onChange={(e) => setStatus((e.currentTarget as HTMLSelectElement).value)}
      >
        <option value="open">open</option>
        <option value="suppressed">suppressed</option>
        <option value="resolved">resolved</option>
      </select>
      <Show loaded={page} what="findings">
        {(p) => (
          <Table<FindingRow>
            caption={`Findings (${p.total.count})`}
            rows={p.items}
            rowKey={(f) => `${f.id} ${f.package.purl}`}
            columns={[
              {
                key: 'id',
                label: 'Vulnerability',
                render: (f) => <a href={`/vulns/${encodeURIComponent(f.id)}`}>{f.id}</a>,
                sort: (f) => f.id,
              },
              {
                key: 'severity',
                label: 'Severity',
                render: (f) => <SeverityBadge severity={f.severity} />,
                sort: (f) => ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'UNKNOWN'].indexOf(f.severity),
              },
              {
                key: 'package',
                label: 'Package',
                render: (f) => `${f.package.name} ${f.package.version}`,
                sort: (f) => f.package.name,
              },
              { key: 'fixed', label: 'Fixed in', render: (f) => f.fixedVersion ?? '—' },
              { key: 'kev', label: 'KEV', render: (f) => (f.kev ? 'yes' : 'no') },
              {
                key: 'first',
                label: 'First seen',
                render: (f) => formatTime(f.firstSeenAt),
                sort: (f) => f.firstSeenAt,
              },
              {
                key: 'triage',
                label: 'Triage',
                render: (f) =>
                  f.exception ? (
                    `${f.exception.status} until ${f.exception.expiresAt.slice(0, 10)}`
                  ) : (
                    <button
                      type="button"
                      onClick={() => setTriage(f)}
                      aria-label={`Add exception for ${f.id} in ${f.package.name}`}
                    >
                      Add exception
                    </button>
                  ),
              },
            ]}
          />
        )}
      </Show>
      {triage && props.repository && (
        <ExceptionForm
          digest={props.digest}
          repository={props.repository}
          finding={triage}
          onDone={() => {
            setTriage(undefined);
            reload();
          }}
        />
      )}
    </>
  );
}

/** An exception needs a reason and an expiry (at most a year): the server refuses one without them. */
function ExceptionForm(props: { digest: string; repository: string; finding: FindingRow; onDone: () => void }) {
  const [error, setError] = useState<string>();
  const submit = async (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    try {
      await api('/exceptions', {
        method: 'POST',
        body: {
          vulnerability: props.finding.id,
          repository: props.repository,
          image: props.digest,
          package: props.finding.package.name,
          status: String(form.get('status')),
          reason: String(form.get('reason') ?? ''),
          expiresAt: `${String(form.get('expires'))}T00:00:00Z`,
        },
      });
      props.onDone();
    } catch (err) {
      setError((err as Error).message);
    }
  };
  return (
    <form class="triage" onSubmit={submit} aria-label={`Exception for ${props.finding.id}`}>
      <h2>
        Exception for {props.finding.id} in {props.finding.package.name}
      </h2>
      <label for="ex-status">Status</label>
      <select id="ex-status" name="status">
        <option value="not_affected">not affected</option>
        <option value="accepted_risk">accepted risk</option>
        <option value="false_positive">false positive</option>
      </select>
      <label for="ex-reason">Reason (required)</label>
      <textarea id="ex-reason" name="reason" required minLength={3} />
      <label for="ex-expires">Expires (required, within a year)</label>
      <input id="ex-expires" name="expires" type="date" required />
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      <button type="submit">Save exception</button>
    </form>
  );
}

function Packages(props: { digest: string }) {
  const [page] = useLoad(
    (signal) =>
      api<Page<{ purl: string; name: string; version: string; type: string; path?: string; layer?: string | null }>>(
        `/images/${props.digest}/packages`,
        { query: { limit: 200 }, signal },
      ),
    [props.digest],
  );
  return (
    <Show loaded={page} what="packages">
      {(p) => (
        <Table
          caption={`Packages (${p.total.type === 'EXACT' ? '' : 'at least '}${p.total.count})`}
          rows={p.items}
          rowKey={(x) => `${x.purl} ${x.path ?? ''}`}
          columns={[
            { key: 'name', label: 'Name', render: (x) => x.name, sort: (x) => x.name },
            { key: 'version', label: 'Version', render: (x) => x.version },
            { key: 'type', label: 'Type', render: (x) => x.type, sort: (x) => x.type },
            { key: 'purl', label: 'purl', render: (x) => <code>{x.purl}</code> },
          ]}
        />
      )}
    </Show>
  );
}

function Layers(props: { digest: string }) {
  const [page] = useLoad(
    (signal) =>
      api<
        Page<{
          position: number;
          diffId: string;
          size: number | null;
          createdBy: string | null;
          packages?: number;
          findings?: number;
        }>
      >(`/images/${props.digest}/layers`, { signal }),
    [props.digest],
  );
  return (
    <Show loaded={page} what="layers">
      {(p) => (
        <Table
          caption="Layers, bottom first, with the step that made each"
          rows={p.items}
          rowKey={(l) => `${l.position}`}
          columns={[
            { key: 'pos', label: '#', numeric: true, render: (l) => l.position },
            { key: 'diff', label: 'Diff id', render: (l) => <code>{shortDigest(l.diffId)}</code> },
            {
              key: 'size',
              label: 'Size',
              numeric: true,
              render: (l) => (l.size === null ? '—' : `${formatNumber(l.size / 1_048_576, 1)} MiB`),
            },
            { key: 'packages', label: 'Packages added', numeric: true, render: (l) => l.packages ?? '—' },
            { key: 'findings', label: 'Findings', numeric: true, render: (l) => l.findings ?? '—' },
            { key: 'by', label: 'Created by', render: (l) => <code class="wrap">{l.createdBy ?? '—'}</code> },
          ]}
        />
      )}
    </Show>
  );
}

function Evidence(props: { digest: string }) {
  const [evidence] = useLoad(
    (signal) =>
      api<{
        state: string;
        score: number;
        max: number;
        checks: { check: string; result: string; keyId: string | null; detail: unknown }[];
      }>(`/images/${props.digest}/evidence`, { signal }),
    [props.digest],
  );
  return (
    <Show loaded={evidence} what="evidence">
      {(e) => (
        <>
          <p>
            Evidence: <strong data-evidence-state={e.state}>{e.state}</strong> ({e.score} of {e.max} checks pass)
          </p>
          <Table
            caption="Evidence checks"
            rows={e.checks}
            rowKey={(c) => c.check}
            columns={[
              { key: 'check', label: 'Check', render: (c) => <code>{c.check}</code> },
              {
                key: 'result',
                label: 'Result',
                render: (c) => <span class={`result result-${c.result}`}>{c.result}</span>,
              },
              { key: 'reason', label: 'Reason', render: (c) => reasonText(c.detail) },
              { key: 'key', label: 'Key', render: (c) => c.keyId ?? '—' },
            ]}
          />
        </>
      )}
    </Show>
  );
}

/** A check's detail as text (it is data, rendered as text: never as HTML). */
function reasonText(detail: unknown): string {
  if (typeof detail === 'string') return detail;
  // the server stores each check's reason as {detail: "…"} (with more fields for some checks)
  if (detail && typeof detail === 'object' && 'detail' in detail && typeof detail.detail === 'string')
    return detail.detail;
  if (detail && typeof detail === 'object' && 'reason' in detail && typeof detail.reason === 'string')
    return detail.reason;
  if (detail && typeof detail === 'object' && 'message' in detail && typeof detail.message === 'string')
    return detail.message;
  return detail === null || detail === undefined ? '—' : JSON.stringify(detail);
}

function History(props: { digest: string }) {
  const [page] = useLoad(
    (signal) =>
      api<Page<{ id: string | number; at: string; type: string; actor?: string | null; data?: unknown }>>(
        `/images/${props.digest}/events`,
        {
          query: { limit: 200 },
          signal,
        },
      ),
    [props.digest],
  );
  return (
    <Show loaded={page} what="history">
      {(p) => (
        <Table
          caption="Audit log, oldest first"
          rows={p.items}
          rowKey={(e) => String(e.id)}
          columns={[
            { key: 'at', label: 'When', render: (e) => formatTime(e.at) },
            { key: 'type', label: 'Event', render: (e) => <code>{e.type}</code> },
            { key: 'actor', label: 'By', render: (e) => e.actor ?? '—' },
            {
              key: 'data',
              label: 'Details',
              render: (e) => (e.data === undefined ? '—' : <EventData data={e.data} />),
            },
          ]}
        />
      )}
    </Show>
  );
}

/** An event's data as a list of `name: value` lines (text, never HTML; nested values flattened to one line). */
function EventData(props: { data: unknown }) {
  if (props.data === null || typeof props.data !== 'object') return <>{String(props.data)}</>;
  const value = (v: unknown): string => {
    if (Array.isArray(v)) return v.length ? v.map(value).join(', ') : 'none';
    if (v && typeof v === 'object')
      return Object.entries(v)
        .map(([k, x]) => `${k} ${value(x)}`)
        .join(', ');
    return String(v);
  };
  return (
    <dl class="event-data">
      {Object.entries(props.data).map(([key, v]) => (
        <div key={key}>
          <dt>{key}</dt>
          <dd>{value(v)}</dd>
        </div>
      ))}
    </dl>
  );
}

interface DiffFinding {
  id: string;
  severity: string;
  package: { name: string; version: string };
}

/** `GET /diff`: exactly `lading diff -o json` (engine ReportDiff). */
interface DiffDocument {
  packages: {
    added: { name: string; version: string }[];
    removed: { name: string; version: string }[];
    changed: { name: string; from: string; to: string }[];
  };
  findings: { new: DiffFinding[]; fixed: DiffFinding[]; unchanged: number };
  direction: 'better' | 'worse' | 'stable';
  incomplete?: { reasons: string[] };
}

function FindingList(props: { findings: DiffFinding[]; kind: string }) {
  if (props.findings.length === 0) return <p>None.</p>;
  return (
    <ul data-diff={props.kind}>
      {props.findings.map((f) => (
        <li key={`${f.id} ${f.package.name}`}>
          <SeverityBadge severity={f.severity} /> {f.id} in {f.package.name} {f.package.version}
        </li>
      ))}
    </ul>
  );
}

/** The repository's builds, oldest first (at most 100): the trend's points and the diff picker's choices. */
function useBuilds(repository: string | null) {
  return useLoad(
    async (signal) =>
      repository === null
        ? []
        : (
            await api<Page<ImageSummary>>('/images', {
              query: { repository, sort: 'ingestedAt', limit: 100 },
              signal,
            })
          ).items,
    [repository],
  );
}

function buildLabel(i: ImageSummary): string {
  return `${i.tags[0] ?? shortDigest(i.digest)} (${formatTime(i.ingestedAt)})`;
}

/** The repository's builds over time: open findings of each build, as a chart with its table and a summary. */
function Trend(props: { digest: string; repository: string | null }) {
  const [builds] = useBuilds(props.repository);
  if (props.repository === null) return <p>This image is in no repository, so it has no track to follow.</p>;
  return (
    <Show loaded={builds} what="the repository's builds">
      {(items) => {
        const first = items[0];
        const last = items[items.length - 1];
        const summary =
          first && last
            ? `${items.length} builds of ${props.repository} from ${formatTime(first.ingestedAt)} to ${formatTime(last.ingestedAt)}: critical ${first.counts.critical} → ${last.counts.critical}, high ${first.counts.high} → ${last.counts.high}, medium ${first.counts.medium} → ${last.counts.medium}.`
            : 'No builds yet.';
        return (
          <LineChart
            id="image-trend"
            title={`Open findings per build of ${props.repository}`}
            summary={summary}
            labels={items.map(buildLabel)}
            series={[
              { label: 'Critical', values: items.map((i) => i.counts.critical), colour: '#8b0000' },
              { label: 'High', values: items.map((i) => i.counts.high), colour: '#c2410c' },
              { label: 'Medium', values: items.map((i) => i.counts.medium), colour: '#a16207' },
              { label: 'Low', values: items.map((i) => i.counts.low), colour: '#1d4ed8' },
            ]}
          />
        );
      }}
    </Show>
  );
}

/** Chooses what to diff against: the previous build, another build of the repository, or any digest typed in. */
function DiffPicker(props: {
  digest: string;
  repository: string | null;
  against: string;
  onAgainst: (against: string) => void;
}) {
  const [builds] = useBuilds(props.repository);
  const others = builds.state === 'ready' ? builds.value.filter((b) => b.digest !== props.digest) : [];
  const [error, setError] = useState<string>();
  return (
    <form
      class="filters"
      aria-label="Diff against"
      onSubmit={(event) => {
        event.preventDefault();
        const form = new FormData(event.currentTarget);
        const typed = String(form.get('digest') ?? '').trim();
        const chosen = typed || String(form.get('build') ?? 'previous');
        if (chosen !== 'previous' && !/^sha256:[0-9a-f]{64}$/.test(chosen)) {
          setError('A digest is sha256: followed by 64 lowercase hex digits.');
          return;
        }
        setError(undefined);
        props.onAgainst(chosen);
      }}
    >
      <div>
        <label for="diff-build">Build</label>
        <select id="diff-build" name="build">
          <option value="previous" selected={props.against === 'previous'}>
            the previous build
          </option>
          {others.map((b) => (
            <option key={b.digest} value={b.digest} selected={props.against === b.digest}>
              {buildLabel(b)}
            </option>
          ))}
        </select>
      </div>
      <div>
        <label for="diff-digest">or any digest</label>
        <input
          id="diff-digest"
          name="digest"
          placeholder="sha256:…"
          aria-describedby={error ? 'diff-error' : undefined}
        />
      </div>
      <button type="submit">Compare</button>
      {error && (
        <p id="diff-error" role="alert" class="error">
          {error}
        </p>
      )}
    </form>
  );
}

function Diff(props: { digest: string; repository: string | null; against: string; onAgainst: (a: string) => void }) {
  return (
    <>
      <DiffPicker {...props} />
      <DiffResult digest={props.digest} against={props.against} />
    </>
  );
}

function DiffResult(props: { digest: string; against: string }) {
  const [diff] = useLoad(
    (signal) => api<DiffDocument>('/diff', { query: { from: props.against, to: props.digest }, signal }),
    [props.digest, props.against],
  );
  return (
    <Show loaded={diff} what="the diff">
      {(d) => (
        <>
          <p>
            Against {props.against === 'previous' ? 'the previous build' : <code>{shortDigest(props.against)}</code>}:{' '}
            <strong data-diff-direction={d.direction}>{d.direction}</strong>
            {d.incomplete ? ` (incomplete: ${d.incomplete.reasons.join('; ')})` : ''}
          </p>
          <h2>New findings ({d.findings.new.length})</h2>
          <FindingList findings={d.findings.new} kind="new" />
          <h2>Fixed findings ({d.findings.fixed.length})</h2>
          <FindingList findings={d.findings.fixed} kind="fixed" />
          <h2>Package changes</h2>
          <Table
            caption="Packages whose version changed"
            rows={d.packages.changed}
            rowKey={(c) => c.name}
            columns={[
              { key: 'name', label: 'Package', render: (c) => c.name },
              { key: 'from', label: 'From', render: (c) => c.from },
              { key: 'to', label: 'To', render: (c) => c.to },
            ]}
          />
        </>
      )}
    </Show>
  );
}
