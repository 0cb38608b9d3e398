// Notification rules: where events go (a signed webhook, Slack, Teams or email) and which ones (by severity, KEV,
// repository and team). Targets and secrets are write-only: the list shows only the target's scheme and host.
// Each rule's deliveries (pending, sent, failed…) open beside it.
import { useState } from 'preact/hooks';
import { api, type Page } from '../../api.js';
import { field, OutcomeText, useAction } from '../../components/action.js';
import { Show, useLoad } from '../../components/load.js';
import { Table } from '../../components/table.js';
import { filterText, formatTime, listOf, SEVERITIES } from '../../format.js';

interface NotificationFilter {
  eventTypes?: string[];
  minSeverity?: string;
  kevOnly?: boolean;
  repositories?: string[];
  teams?: string[];
}

interface NotificationRule {
  id: string;
  name: string;
  channel: 'webhook' | 'slack' | 'teams' | 'email';
  target: string;
  hasSecret: boolean;
  filter: NotificationFilter;
  enabled: boolean;
  createdAt: string;
}

interface Delivery {
  id: string;
  eventId: string | null;
  state: string;
  attempts: number;
  lastError: string | null;
  sentAt: string | null;
  createdAt: string;
}

const CHANNELS = [
  ['webhook', 'Webhook (signed with the secret)'],
  ['slack', 'Slack incoming webhook'],
  ['teams', 'Microsoft Teams workflow'],
  ['email', 'Email (smtp:// or smtps:// URL)'],
] as const;

export function NotificationRulesSection() {
  const [rules, reload] = useLoad(
    (signal) => api<Page<NotificationRule>>('/notification-rules?limit=200', { signal }),
    [],
  );
  const [open, setOpen] = useState<string>();
  const [outcome, run] = useAction();
  const create = (event: Event) => {
    event.preventDefault();
    const formElement = event.currentTarget as HTMLFormElement;
    const form = new FormData(formElement);
    const filter: NotificationFilter = {};
    const minSeverity = field(form, 'minSeverity');
    if (minSeverity) filter.minSeverity = minSeverity;
    if (form.get('kevOnly')) filter.kevOnly = true;
    const repositories = listOf(field(form, 'repositories'));
    if (repositories.length) filter.repositories = repositories;
    const teams = listOf(field(form, 'teams'));
    if (teams.length) filter.teams = teams;
    const secret = field(form, 'secret');
    void run(async () => {
      const rule = await api<NotificationRule>('/notification-rules', {
        method: 'POST',
        body: {
          name: field(form, 'name'),
          channel: field(form, 'channel'),
          target: field(form, 'target'),
          ...(secret ? { secret } : {}),
          filter,
        },
      });
      formElement.reset();
      reload();
      return `Created the rule ${rule.name}: ${filterText(rule.filter)} to ${rule.target}.`;
    });
  };
  const remove = (rule: NotificationRule) =>
    void run(async () => {
      await api(`/notification-rules/${encodeURIComponent(rule.id)}`, { method: 'DELETE' });
      if (open === rule.id) setOpen(undefined);
      reload();
      return `Deleted the rule ${rule.name} and its delivery records.`;
    });
  return (
    <>
      <Show loaded={rules} what="notification rules">
        {(page) => (
          <>
            <Table<NotificationRule>
              caption="Notification rules"
              rows={page.items}
              rowKey={(r) => r.id}
              empty="No notification rule: nobody is told about new findings."
              columns={[
                { key: 'name', label: 'Name', render: (r) => r.name, sort: (r) => r.name },
                { key: 'channel', label: 'Channel', render: (r) => r.channel },
                { key: 'target', label: 'Target', render: (r) => <code class="wrap">{r.target}</code> },
                { key: 'filter', label: 'Sends', render: (r) => filterText(r.filter) },
                { key: 'enabled', label: 'Enabled', render: (r) => (r.enabled ? 'yes' : 'no') },
                {
                  key: 'deliveries',
                  label: 'Deliveries',
                  render: (r) => (
                    <button
                      type="button"
                      aria-expanded={open === r.id}
                      aria-controls={open === r.id ? `deliveries-${r.id}` : undefined}
                      onClick={() => setOpen(open === r.id ? undefined : r.id)}
                    >
                      {open === r.id ? 'Hide' : 'Show'} deliveries<span class="visually-hidden"> of {r.name}</span>
                    </button>
                  ),
                },
                {
                  key: 'delete',
                  label: 'Delete',
                  render: (r) => (
                    <button type="button" onClick={() => remove(r)} aria-label={`Delete the rule ${r.name}`}>
                      Delete
                    </button>
                  ),
                },
              ]}
            />
            {open && page.items.some((r) => r.id === open) && (
              <Deliveries rule={page.items.find((r) => r.id === open) as NotificationRule} />
            )}
          </>
        )}
      </Show>
      <form class="settings-form" onSubmit={create} aria-label="Create a notification rule">
        <div class="pair">
          <div>
            <label for="n-name">Rule name</label>
            <input id="n-name" name="name" required maxLength={100} />
          </div>
          <div>
            <label for="n-channel">Channel</label>
            <select id="n-channel" name="channel">
              {CHANNELS.map(([value, label]) => (
                <option key={value} value={value}>
                  {label}
                </option>
              ))}
            </select>
          </div>
        </div>
        <div>
          <label for="n-target">Target URL (write-only: never shown again in full)</label>
          <input id="n-target" name="target" type="url" required size={60} autoComplete="off" />
        </div>
        <div>
          <label for="n-secret">Signing secret (webhooks: at least 16 characters; write-only)</label>
          <input id="n-secret" name="secret" type="password" minLength={16} autoComplete="new-password" />
        </div>
        <fieldset>
          <legend>Which events</legend>
          <div class="pair">
            <div>
              <label for="n-severity">Minimum severity</label>
              <select id="n-severity" name="minSeverity">
                <option value="">any</option>
                {SEVERITIES.filter((s) => s !== 'unknown').map((s) => (
                  <option key={s} value={s}>
                    {s} or worse
                  </option>
                ))}
              </select>
            </div>
            <label class="choice">
              <input type="checkbox" name="kevOnly" /> Only known exploited (KEV)
            </label>
          </div>
          <div>
            <label for="n-repos">Repositories (comma-separated; empty: all)</label>
            <input id="n-repos" name="repositories" size={60} />
          </div>
          <div>
            <label for="n-teams">Teams (comma-separated; empty: all)</label>
            <input id="n-teams" name="teams" size={40} />
          </div>
        </fieldset>
        <div>
          <button type="submit" disabled={outcome.kind === 'busy'}>
            Create rule
          </button>
        </div>
      </form>
      <OutcomeText outcome={outcome} />
    </>
  );
}

function Deliveries(props: { rule: NotificationRule }) {
  const [deliveries] = useLoad(
    (signal) =>
      api<Page<Delivery>>(`/notification-rules/${encodeURIComponent(props.rule.id)}/notifications?limit=200`, {
        signal,
      }),
    [props.rule.id],
  );
  return (
    <div id={`deliveries-${props.rule.id}`}>
      <Show loaded={deliveries} what="deliveries">
        {(page) => (
          <Table<Delivery>
            caption={`Deliveries of ${props.rule.name}, newest first`}
            rows={page.items}
            rowKey={(d) => d.id}
            empty="Nothing sent yet: no event has matched this rule."
            columns={[
              { key: 'created', label: 'Queued', render: (d) => formatTime(d.createdAt) },
              { key: 'state', label: 'State', render: (d) => d.state },
              { key: 'attempts', label: 'Attempts', numeric: true, render: (d) => String(d.attempts) },
              { key: 'sent', label: 'Sent', render: (d) => formatTime(d.sentAt) },
              { key: 'error', label: 'Last error', render: (d) => d.lastError ?? '—' },
            ]}
          />
        )}
      </Show>
    </div>
  );
}
