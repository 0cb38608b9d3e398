// What each channel receives for one event. Messages are rendered once, when the outbox row is written, and stored
// in it: every retry sends the same bytes (and the same signature), so a receiver can de-duplicate on content too.
import type { NotificationChannel } from '../db/schema.js';

/** The facts of one event a message is made from (plain data, read in the event's transaction). */
export interface EventView {
  readonly id: number;
  readonly type: string;
  readonly at: number;
  readonly severity: string | null;
  readonly repository: string | null;
  readonly vulnerability: string | null;
  readonly kev: boolean;
  readonly data: Readonly<Record<string, unknown>>;
}

/** A rendered message: the HTTP body (webhook, Slack, Teams) or the mail's subject and text (email). */
export interface RenderedMessage {
  readonly contentType: string;
  readonly body: string;
  readonly subject: string;
}

/** One line saying what happened, e.g. `[HIGH] finding.new: CVE-2026-1234 (KEV) in ghcr.io/acme/api`. */
export function headline(event: EventView): string {
  const severity = event.severity === null ? '' : `[${event.severity.toUpperCase()}] `;
  const what = event.vulnerability === null ? '' : `: ${event.vulnerability}${event.kev ? ' (KEV)' : ''}`;
  const where = event.repository === null ? '' : ` in ${event.repository}`;
  return `${severity}${event.type}${what}${where}`.slice(0, 300);
}

function detailLines(event: EventView): string[] {
  const lines = [`Event ${event.id} at ${new Date(event.at).toISOString()}`];
  for (const key of ['digest', 'tag', 'package', 'installed', 'fixedIn', 'fixed']) {
    const value = event.data[key];
    if (typeof value === 'string' || typeof value === 'number') lines.push(`${key}: ${String(value).slice(0, 300)}`);
  }
  return lines;
}

/** Slack's mrkdwn treats &, < and > as markup: escaped, advisory text cannot inject links or mentions. */
function slackEscape(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

export function renderMessage(channel: NotificationChannel, deliveryId: string, event: EventView): RenderedMessage {
  const subject = headline(event);
  const details = detailLines(event);
  switch (channel) {
    case 'webhook':
      return {
        contentType: 'application/json',
        subject,
        body: JSON.stringify({
          deliveryId,
          event: {
            id: event.id,
            type: event.type,
            at: new Date(event.at).toISOString(),
            severity: event.severity,
            repository: event.repository,
            vulnerability: event.vulnerability,
            kev: event.kev,
            data: event.data,
          },
        }),
      };
    case 'slack':
      return {
        contentType: 'application/json',
        subject,
        body: JSON.stringify({
          text: slackEscape(subject),
          blocks: [
            { type: 'section', text: { type: 'mrkdwn', text: `*${slackEscape(subject)}*` } },
            { type: 'context', elements: [{ type: 'mrkdwn', text: slackEscape(details.join('\n')) }] },
          ],
        }),
      };
    case 'teams':
      // Microsoft Teams workflows (and the retired connectors' successor) take an Adaptive Card in a message.
      return {
        contentType: 'application/json',
        subject,
        body: JSON.stringify({
          type: 'message',
          attachments: [
            {
              contentType: 'application/vnd.microsoft.card.adaptive',
              content: {
                $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
                type: 'AdaptiveCard',
                version: '1.4',
                body: [
                  { type: 'TextBlock', text: subject, weight: 'Bolder', wrap: true },
                  ...details.map((line) => ({ type: 'TextBlock', text: line, wrap: true, isSubtle: true })),
                ],
              },
            },
          ],
        }),
      };
    case 'email':
      return { contentType: 'text/plain; charset=utf-8', subject, body: `${subject}\n\n${details.join('\n')}\n` };
  }
}
