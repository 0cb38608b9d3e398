// Notifications (SERVER.md sections 1 and 7): rules, the outbox written beside events, and delivery to webhooks
// (signed), Slack, Microsoft Teams and email.
export { deliverNotification, MAX_DELIVERY_ATTEMPTS, registerNotifyJobs, signBody } from './deliver.js';
export { type EventFacts, filterMatches, parseFilter, type RuleFilter } from './filter.js';
export { type EventView, headline, renderMessage } from './messages.js';
export { deliveryId, NOTIFY_DELIVER, type QueuedEvent, queueNotifications } from './outbox.js';
export { registerNotificationRuleRoutes } from './routes.js';
export { integrationKey, open as openSecret, seal as sealSecret } from './secret-box.js';
export { formatMail, parseSmtpUrl, SmtpError, sendMail } from './smtp.js';
