// Users and teams: who can sign in, which teams they belong to (with a role), and which repositories each team is
// granted (by pattern). Access to repositories comes only through a team's grants, so this is the whole picture.
import { api, type Page } from '../../api.js';
import { field, OutcomeText, useAction } from '../../components/action.js';
import { Show, useLoad } from '../../components/load.js';
import { Table } from '../../components/table.js';
import { formatTime } from '../../format.js';

interface User {
  login: string;
  displayName: string;
  email: string;
  isAdmin: boolean;
  disabled: boolean;
  createdAt: string;
}

interface Team {
  name: string;
  createdAt: string;
  members: { login: string; role: string }[];
  repositoryPatterns: string[];
}

const ROLES = ['viewer', 'triager', 'maintainer'] as const;

export function UsersAndTeamsSection() {
  const [users, reloadUsers] = useLoad((signal) => api<Page<User>>('/users?limit=200', { signal }), []);
  const [teams, reloadTeams] = useLoad((signal) => api<Page<Team>>('/teams?limit=200', { signal }), []);
  const [outcome, run] = useAction();

  /** Submits one of the forms below: `send` makes the request and says what happened. */
  const submit = (send: (form: FormData) => Promise<string>) => (event: Event) => {
    event.preventDefault();
    const formElement = event.currentTarget as HTMLFormElement;
    const form = new FormData(formElement);
    void run(async () => {
      const message = await send(form);
      formElement.reset();
      reloadUsers();
      reloadTeams();
      return message;
    });
  };
  const createUser = submit(async (form) => {
    const password = field(form, 'password');
    const user = await api<User>('/users', {
      method: 'POST',
      body: {
        login: field(form, 'login'),
        ...(field(form, 'displayName') ? { displayName: field(form, 'displayName') } : {}),
        ...(field(form, 'email') ? { email: field(form, 'email') } : {}),
        ...(password ? { password } : {}),
        isAdmin: form.get('isAdmin') !== null,
      },
    });
    return `Created the user ${user.login}${user.isAdmin ? ' (administrator)' : ''}.`;
  });
  const createTeam = submit(async (form) => {
    const team = await api<{ name: string }>('/teams', { method: 'POST', body: { name: field(form, 'name') } });
    return `Created the team ${team.name}.`;
  });
  const grant = submit(async (form) => {
    const answer = await api<{ team: string; repositoryPattern: string }>(
      `/teams/${encodeURIComponent(field(form, 'team'))}/grants`,
      { method: 'POST', body: { repositoryPattern: field(form, 'repositoryPattern') } },
    );
    return `Granted ${answer.team} the repositories ${answer.repositoryPattern}.`;
  });
  const addMember = submit(async (form) => {
    const answer = await api<{ team: string; login: string; role: string }>(
      `/teams/${encodeURIComponent(field(form, 'team'))}/members`,
      { method: 'POST', body: { login: field(form, 'login'), role: field(form, 'role') } },
    );
    return `${answer.login} is now ${answer.role} in ${answer.team}.`;
  });

  return (
    <>
      <Show loaded={users} what="users">
        {(page) => (
          <Table<User>
            caption="Users"
            rows={page.items}
            rowKey={(u) => u.login}
            columns={[
              { key: 'login', label: 'Login', render: (u) => u.login, sort: (u) => u.login },
              { key: 'name', label: 'Name', render: (u) => u.displayName || '—' },
              { key: 'email', label: 'Email', render: (u) => u.email || '—' },
              { key: 'admin', label: 'Administrator', render: (u) => (u.isAdmin ? 'yes' : 'no') },
              { key: 'state', label: 'State', render: (u) => (u.disabled ? 'disabled' : 'active') },
              { key: 'created', label: 'Created', render: (u) => formatTime(u.createdAt) },
            ]}
          />
        )}
      </Show>
      <form class="settings-form" onSubmit={createUser} aria-label="Create a user">
        <h3>Create a user</h3>
        <div class="pair">
          <div>
            <label for="u-login">Login</label>
            <input id="u-login" name="login" required maxLength={100} autoComplete="off" />
          </div>
          <div>
            <label for="u-name">Display name</label>
            <input id="u-name" name="displayName" maxLength={200} />
          </div>
          <div>
            <label for="u-email">Email</label>
            <input id="u-email" name="email" type="email" maxLength={200} />
          </div>
          <div>
            <label for="u-password">Password (at least 12 characters; empty: no password sign-in)</label>
            <input id="u-password" name="password" type="password" minLength={12} autoComplete="new-password" />
          </div>
        </div>
        <label class="choice">
          <input type="checkbox" name="isAdmin" /> Administrator
        </label>
        <div>
          <button type="submit" disabled={outcome.kind === 'busy'}>
            Create user
          </button>
        </div>
      </form>
      <Show loaded={teams} what="teams">
        {(page) => (
          <>
            <Table<Team>
              caption="Teams"
              rows={page.items}
              rowKey={(t) => t.name}
              empty="No team yet: create one, grant it repositories and add its members."
              columns={[
                { key: 'name', label: 'Team', render: (t) => t.name, sort: (t) => t.name },
                {
                  key: 'members',
                  label: 'Members',
                  render: (t) => t.members.map((m) => `${m.login} (${m.role})`).join(', ') || '—',
                },
                { key: 'grants', label: 'Repositories', render: (t) => t.repositoryPatterns.join(', ') || '—' },
              ]}
            />
            <form class="settings-form" onSubmit={createTeam} aria-label="Create a team">
              <h3>Create a team</h3>
              <div>
                <label for="team-name">Team name</label>
                <input id="team-name" name="name" required maxLength={100} />
              </div>
              <div>
                <button type="submit" disabled={outcome.kind === 'busy'}>
                  Create team
                </button>
              </div>
            </form>
            {page.items.length > 0 && (
              <>
                <form class="settings-form" onSubmit={grant} aria-label="Grant repositories to a team">
                  <h3>Grant repositories</h3>
                  <div class="pair">
                    <TeamSelect id="g-team" teams={page.items} />
                    <div>
                      <label for="g-pattern">Repositories (glob, such as ghcr.io/acme/*)</label>
                      <input id="g-pattern" name="repositoryPattern" required maxLength={255} size={40} />
                    </div>
                  </div>
                  <div>
                    <button type="submit" disabled={outcome.kind === 'busy'}>
                      Grant
                    </button>
                  </div>
                </form>
                <form class="settings-form" onSubmit={addMember} aria-label="Add a member to a team">
                  <h3>Add a member</h3>
                  <div class="pair">
                    <TeamSelect id="m-team" teams={page.items} />
                    <div>
                      <label for="m-login">User</label>
                      <select id="m-login" name="login" required>
                        {users.state === 'ready' &&
                          users.value.items.map((u) => (
                            <option key={u.login} value={u.login}>
                              {u.login}
                            </option>
                          ))}
                      </select>
                    </div>
                    <div>
                      <label for="m-role">Role</label>
                      <select id="m-role" name="role">
                        {ROLES.map((r) => (
                          <option key={r} value={r}>
                            {r}
                          </option>
                        ))}
                      </select>
                    </div>
                  </div>
                  <div>
                    <button type="submit" disabled={outcome.kind === 'busy'}>
                      Add member
                    </button>
                  </div>
                </form>
              </>
            )}
          </>
        )}
      </Show>
      <OutcomeText outcome={outcome} />
    </>
  );
}

function TeamSelect(props: { id: string; teams: Team[] }) {
  return (
    <div>
      <label for={props.id}>Team</label>
      <select id={props.id} name="team" required>
        {props.teams.map((t) => (
          <option key={t.name} value={t.name}>
            {t.name}
          </option>
        ))}
      </select>
    </div>
  );
}
