// Settings: repositories and their thresholds, trusted keys, API tokens (the secret shown once), notification rules,
// users and teams, and the system's status and data freshness. Each section is its own landmark with a heading; the
// section links move focus to it. Only administrators see the sections whose API is admin-only.
import type { ComponentChildren } from 'preact';
import type { PageProps } from '../app.js';
import { TrustedKeysSection } from './settings/keys.js';
import { NotificationRulesSection } from './settings/notifications.js';
import { UsersAndTeamsSection } from './settings/people.js';
import { RepositorySettingsSection } from './settings/repositories.js';
import { StatusSection } from './settings/status.js';
import { TokensSection } from './settings/tokens.js';

const SECTIONS: readonly { id: string; title: string; adminOnly: boolean }[] = [
  { id: 'repositories', title: 'Repositories and thresholds', adminOnly: true },
  { id: 'trusted-keys', title: 'Trusted keys', adminOnly: true },
  { id: 'tokens', title: 'API tokens', adminOnly: false },
  { id: 'notifications', title: 'Notification rules', adminOnly: true },
  { id: 'people', title: 'Users and teams', adminOnly: true },
  { id: 'status', title: 'System status and data freshness', adminOnly: false },
];

export default function Settings(props: PageProps) {
  const admin = props.me.user?.isAdmin === true;
  const shown = SECTIONS.filter((s) => admin || !s.adminOnly);
  const body = (id: string): ComponentChildren => {
    switch (id) {
      case 'repositories':
        return <RepositorySettingsSection location={props.location} />;
      case 'trusted-keys':
        return <TrustedKeysSection />;
      case 'tokens':
        return <TokensSection />;
      case 'notifications':
        return <NotificationRulesSection />;
      case 'people':
        return <UsersAndTeamsSection />;
      default:
        return <StatusSection />;
    }
  };
  return (
    <>
      <h1>Settings</h1>
      <nav aria-label="Settings sections">
        <ul class="section-links">
          {shown.map((s) => (
            <li key={s.id}>
              <a
                href={`#${s.id}`}
                onClick={(event) => {
                  // in-page: focus the section's heading (the app's router would treat the link as a new page)
                  event.preventDefault();
                  const heading = document.getElementById(`${s.id}-title`);
                  heading?.focus();
                  heading?.scrollIntoView({ block: 'start' });
                }}
              >
                {s.title}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      {!admin && props.me.user && (
        <p class="note">
          Repositories, trusted keys, notification rules, users and teams are changed by administrators.
        </p>
      )}
      {shown.map((s) => (
        <section key={s.id} id={s.id} aria-labelledby={`${s.id}-title`} class="settings-section">
          <h2 id={`${s.id}-title`} tabIndex={-1}>
            {s.title}
          </h2>
          {body(s.id)}
        </section>
      ))}
    </>
  );
}
