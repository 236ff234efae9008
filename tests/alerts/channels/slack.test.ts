import * as vitest from 'vitest';
import { afterEach, describe, expect, it } from 'vitest';
import { slackChannel } from '../../../src/alerts/channels/index.js';
import { ALERT_COLOURS } from '../../../src/alerts/channels/render.js';
import { AlertChannelError } from '../../../src/alerts/errors.js';
import {
  describeAlertChannel,
  sampleAlert,
  sampleNotification,
} from '../../../src/testing/index.js';
import { type HttpReceiver, startHttpReceiver } from './receivers.js';
import { rejectionOf, thrownBy } from './thrown.js';

describeAlertChannel('slack', vitest, {
  errorType: AlertChannelError,
  async create({ fail }) {
    const receiver = await startHttpReceiver((_request, response) => {
      // What Slack answers: 200 "ok", or 404 "no_service" for a revoked webhook.
      if (fail) response.writeHead(404).end('no_service');
      else response.writeHead(200).end('ok');
    });
    return {
      channel: slackChannel({ name: 'slack-ops', webhookUrl: receiver.url }),
      received: () => receiver.requests.length,
      cleanup: () => receiver.close(),
    };
  },
});

interface SlackPayload {
  text: string;
  channel?: string;
  username?: string;
  blocks: { type: string; text?: { type: string; text: string }; elements?: { text: string }[] }[];
  attachments: {
    color: string;
    fallback: string;
    blocks: { type: string; text: { type: string; text: string }; fields: { text: string }[] }[];
  }[];
}

describe('slackChannel', () => {
  let receiver: HttpReceiver;
  afterEach(async () => {
    await receiver?.close();
  });
  const post = async (
    notification = sampleNotification(),
    options: Partial<Parameters<typeof slackChannel>[0]> = {},
  ): Promise<SlackPayload> => {
    receiver = await startHttpReceiver();
    await slackChannel({ name: 'slack', webhookUrl: receiver.url, ...options }).send(notification);
    expect(receiver.requests).toHaveLength(1);
    expect(receiver.requests[0]!.headers['content-type']).toMatch(/^application\/json/);
    return JSON.parse(receiver.requests[0]!.body) as SlackPayload;
  };

  it('posts a document (a report) as its subject and text digest, escaped', async () => {
    receiver = await startHttpReceiver();
    await slackChannel({ name: 'slack', webhookUrl: receiver.url, channel: '#ops' }).sendDocument!({
      id: 'weekly:1',
      kind: 'report',
      subject: 'Weekly <ops> & co',
      text: '== Performance\n  Calls: 12',
      html: '<p>not sent</p>',
      json: {},
    });
    expect(JSON.parse(receiver.requests[0]!.body)).toEqual({
      text: '*Weekly &lt;ops&gt; &amp; co*\n```== Performance\n  Calls: 12```',
      channel: '#ops',
    });
  });

  it('posts the title as fallback text and one attachment per alert with its details', async () => {
    const payload = await post();
    expect(payload.text).toBe('[FIRING:1] HighLatency (GET /users)');
    expect(payload.blocks[0]).toEqual({
      type: 'section',
      text: { type: 'mrkdwn', text: '*[FIRING:1] HighLatency (GET /users)*' },
    });
    expect(payload.attachments).toHaveLength(1);
    const [attachment] = payload.attachments;
    expect(attachment!.color).toBe(ALERT_COLOURS.critical);
    expect(attachment!.fallback).toBe(
      '[CRITICAL] HighLatency FIRING: p95 of GET /users is 620 ms (above 500 ms)',
    );
    const section = attachment!.blocks[0]!;
    expect(section.type).toBe('section');
    expect(section.text).toEqual({
      type: 'mrkdwn',
      text: '*[CRITICAL] HighLatency FIRING*\np95 of GET /users is 620 ms (above 500 ms)',
    });
    const fields = section.fields.map((field) => field.text);
    expect(fields[0]).toBe('*Value*\n620');
    expect(fields[1]).toMatch(/^\*Since\*\n\d{4}-\d\d-\d\dT/);
    // alertname is the rule: not repeated among the labels.
    expect(fields[2]).toBe('*Labels*\noperation=GET /users, region=eu-west-1');
    expect(payload.channel).toBeUndefined();
    expect(payload.username).toBeUndefined();
  });

  it('colours by severity, green once resolved, and passes channel and username', async () => {
    const resolvedAt = new Date().toISOString();
    const payload = await post(
      sampleNotification({
        kind: 'resolved',
        title: '[RESOLVED] mixed',
        alerts: [
          sampleAlert({ severity: 'warning' }),
          sampleAlert({ severity: 'info' }),
          sampleAlert({ state: 'resolved', resolvedAt }),
        ],
      }),
      { channel: '#ops', username: 'alerts-bot' },
    );
    expect(payload.attachments.map((a) => a.color)).toEqual([
      ALERT_COLOURS.warning,
      ALERT_COLOURS.info,
      ALERT_COLOURS.resolved,
    ]);
    expect(payload.attachments[2]!.blocks[0]!.text.text).toMatch(
      /^\*\[CRITICAL\] HighLatency RESOLVED\*/,
    );
    expect(payload.attachments[2]!.blocks[0]!.fields[1]!.text).toBe(`*Resolved at*\n${resolvedAt}`);
    expect(payload).toMatchObject({ channel: '#ops', username: 'alerts-bot' });
  });

  it('escapes what Slack reads as markup: & < >', async () => {
    const payload = await post(
      sampleNotification({
        title: 'a <!channel> & b',
        alerts: [
          sampleAlert({
            annotations: { summary: '<https://evil.example|click> & more' },
            labels: { path: '/x?a=1&b=<2>' },
            value: null,
          }),
        ],
      }),
    );
    expect(payload.text).toBe('a <!channel> & b');
    expect(payload.blocks[0]!.text!.text).toBe('*a &lt;!channel&gt; &amp; b*');
    const section = payload.attachments[0]!.blocks[0]!;
    expect(section.text.text).toContain('&lt;https://evil.example|click&gt; &amp; more');
    expect(section.fields.map((f) => f.text)).toEqual([
      '*Value*\nno data',
      expect.stringMatching(/^\*Since\*/),
      '*Labels*\npath=/x?a=1&amp;b=&lt;2&gt;',
    ]);
  });

  it('lists twenty alerts and counts the others', async () => {
    const alerts = Array.from({ length: 23 }, (_, i) => sampleAlert({ fingerprint: `f${i}` }));
    const payload = await post(sampleNotification({ alerts }));
    expect(payload.attachments).toHaveLength(20);
    expect(payload.blocks[1]).toEqual({
      type: 'context',
      elements: [{ type: 'mrkdwn', text: 'and 3 more alerts' }],
    });
  });

  it("rejects with Slack's answer and status, without naming the webhook's secret path", async () => {
    receiver = await startHttpReceiver((_request, response) => {
      response.writeHead(403).end('invalid_token');
    });
    const channel = slackChannel({ name: 'slack', webhookUrl: receiver.url });
    const error = (await rejectionOf(channel.send(sampleNotification()))) as AlertChannelError;
    expect(error).toBeInstanceOf(AlertChannelError);
    expect(error.context).toMatchObject({
      channel: 'slack',
      status: 403,
      response: 'invalid_token',
    });
    expect(error.message).not.toContain('/hooks/alerts');
    expect(error.message).not.toContain('t0k3n');
  });

  it('refuses a webhook URL that is not http(s) at creation, without echoing it', () => {
    const create = (webhookUrl: string) => () => slackChannel({ name: 'slack', webhookUrl });
    expect(create('https://hooks.slack.com/services/T0/B0/secret')).not.toThrow();
    expect(create('hooks.slack.com/services/T0/B0/secret')).toThrow(AlertChannelError);
    expect(create('javascript:alert(1)')).toThrow(/webhookUrl must be an http/);
    const error = thrownBy(create('wss://hooks.slack.com/services/T0/B0/secret'));
    expect(error).toBeInstanceOf(AlertChannelError);
    expect(`${error.message} ${JSON.stringify(error)}`).not.toContain('secret');
  });
});
