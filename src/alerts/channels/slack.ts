import type { Duration } from '../../core/duration.js';
import type { AlertChannel, AlertNotification, ChannelDocument } from '../types.js';
import { checkName, checkTimeout } from './checks.js';
import { httpPost, parseHttpUrl } from './http-post.js';
import { formatLabels, notificationTitle, renderAlert } from './render.js';

/** Characters of a document's text digest posted; Slack truncates long messages itself. */
const DOCUMENT_TEXT = 3_500;

/** Options of {@link slackChannel}. */
export interface SlackChannelOptions {
  /** The channel's name, unique among an instance's channels. */
  name: string;
  /** The incoming-webhook URL Slack gave (`https://hooks.slack.com/services/...`): a secret. */
  webhookUrl: string | URL;
  /** Posts to this channel instead of the webhook's own (`#ops`), where the webhook allows it. */
  channel?: string;
  /** The name the messages are posted under, where the webhook allows it. */
  username?: string;
  /** How long one delivery may take. Default 10 seconds. */
  timeout?: Duration;
}

/** Alerts shown one by one in a message; the rest are counted (Slack caps a message's size). */
const SHOWN_ALERTS = 20;
/** Slack's limit on a section's text is 3000 characters, and 2000 on a field's. */
const SECTION_TEXT = 2_900;
const FIELD_TEXT = 1_900;

/**
 * A channel that posts to a Slack incoming webhook: the title as the message text (what
 * notifications and clients without blocks show), then one attachment per alert coloured by
 * severity (green once resolved) with its summary, value, start and labels. Failures reject with an
 * {@link AlertChannelError}, as the webhook channel's do (Slack answers 404 `no_service` for a
 * revoked webhook, 429 with `Retry-After` when rate limited).
 *
 * @throws AlertChannelError at creation when the URL is not http(s) or an option is invalid.
 * @example
 * ```ts
 * const slack = slackChannel({ name: 'slack-ops', webhookUrl: process.env.SLACK_WEBHOOK_URL! });
 * ```
 */
export function slackChannel(options: SlackChannelOptions): AlertChannel {
  const name = checkName(options.name);
  const url = parseHttpUrl(name, 'webhookUrl', options.webhookUrl);
  const timeoutMs = checkTimeout(name, options.timeout, 10);
  const extra = {
    ...(options.channel === undefined ? {} : { channel: options.channel }),
    ...(options.username === undefined ? {} : { username: options.username }),
  };
  const post = (message: Record<string, unknown>, signal: AbortSignal | undefined) =>
    httpPost({
      channel: name,
      url,
      body: JSON.stringify({ ...message, ...extra }),
      headers: { 'content-type': 'application/json; charset=utf-8' },
      timeoutMs,
      signal,
    });
  return {
    name,
    send: (notification: AlertNotification, signal?: AbortSignal): Promise<void> =>
      post(slackMessage(notification), signal),
    // A document (a report) as its subject and text digest: Slack shows no HTML.
    sendDocument: (document: ChannelDocument, signal?: AbortSignal): Promise<void> =>
      post(
        {
          text: `*${escapeMrkdwn(document.subject)}*\n\`\`\`${escapeMrkdwn(
            document.text.length > DOCUMENT_TEXT
              ? `${document.text.slice(0, DOCUMENT_TEXT)}\n...`
              : document.text,
          )}\`\`\``,
        },
        signal,
      ),
  };
}

/**
 * The Slack message of a notification (incoming-webhook payload, Block Kit in attachments).
 *
 * @internal
 */
export function slackMessage(notification: AlertNotification): Record<string, unknown> {
  const title = notificationTitle(notification);
  const shown = notification.alerts.slice(0, SHOWN_ALERTS);
  const hidden = notification.alerts.length - shown.length;
  const attachments = shown.map((alert) => {
    const rendered = renderAlert(alert);
    const fields = [{ type: 'mrkdwn', text: `*Value*\n${escapeMrkdwn(rendered.value)}` }];
    if (rendered.since !== undefined) {
      const label = alert.state === 'resolved' ? 'Resolved at' : 'Since';
      fields.push({ type: 'mrkdwn', text: `*${label}*\n${escapeMrkdwn(rendered.since)}` });
    }
    if (rendered.labels.length > 0) {
      const labels = escapeMrkdwn(formatLabels(rendered.labels));
      fields.push({ type: 'mrkdwn', text: clip(`*Labels*\n${labels}`, FIELD_TEXT) });
    }
    return {
      color: rendered.colour,
      fallback: `${rendered.headline}: ${rendered.summary}`,
      blocks: [
        {
          type: 'section',
          text: {
            type: 'mrkdwn',
            text: clip(
              `*${escapeMrkdwn(rendered.headline)}*\n${escapeMrkdwn(rendered.summary)}`,
              SECTION_TEXT,
            ),
          },
          fields,
        },
      ],
    };
  });
  const blocks: Record<string, unknown>[] = [
    {
      type: 'section',
      text: { type: 'mrkdwn', text: clip(`*${escapeMrkdwn(title)}*`, SECTION_TEXT) },
    },
  ];
  if (hidden > 0) {
    blocks.push({
      type: 'context',
      elements: [{ type: 'mrkdwn', text: `and ${hidden} more alert${hidden === 1 ? '' : 's'}` }],
    });
  }
  return { text: title, blocks, attachments };
}

/** Slack's mrkdwn treats `&`, `<` and `>` as markup (links, mentions): they must be escaped. */
function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
