import { execFile } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import { promisify } from 'node:util';
import nodemailer from 'nodemailer';
import * as vitest from 'vitest';
import { afterEach, describe, expect, it } from 'vitest';
import { emailChannel } from '../../../src/alerts/channels/index.js';
import { AlertChannelError } from '../../../src/alerts/errors.js';
import {
  describeAlertChannel,
  eventually,
  sampleAlert,
  sampleNotification,
} from '../../../src/testing/index.js';
import { type SmtpReceiver, startSmtpReceiver } from './receivers.js';
import { rejectionOf, thrownBy } from './thrown.js';

const FROM = 'Alerts <alerts@example.com>';

describeAlertChannel('email', vitest, {
  errorType: AlertChannelError,
  async create({ fail }) {
    const receiver = await startSmtpReceiver();
    receiver.refuse = fail;
    return {
      channel: emailChannel({
        name: 'oncall-mail',
        transport: { host: '127.0.0.1', port: receiver.port },
        from: FROM,
        to: ['oncall@example.com'],
      }),
      received: () => receiver.messages.length,
      cleanup: () => receiver.close(),
    };
  },
});

describe('emailChannel', () => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  const smtp = async (options: { auth?: boolean } = {}): Promise<SmtpReceiver> => {
    const receiver = await startSmtpReceiver(options);
    cleanups.push(() => receiver.close());
    return receiver;
  };
  const channelTo = (
    receiver: SmtpReceiver,
    options: Partial<Parameters<typeof emailChannel>[0]> = {},
  ) => {
    const channel = emailChannel({
      name: 'mail',
      transport: { host: '127.0.0.1', port: receiver.port },
      from: FROM,
      to: ['oncall@example.com'],
      ...options,
    });
    cleanups.push(() => channel.close?.());
    return channel;
  };

  it('sends a message with the subject, the recipients and a text and an escaped HTML body', async () => {
    const receiver = await smtp({ auth: true });
    const channel = channelTo(receiver, {
      transport: {
        host: '127.0.0.1',
        port: receiver.port,
        auth: { user: 'alerts', pass: 's3cret-pass' },
      },
      to: ['oncall@example.com', 'sre@example.com'],
      subjectPrefix: '[prod]',
    });
    const notification = sampleNotification({
      alerts: [
        sampleAlert({
          annotations: { summary: '<script>alert("x")</script> & co' },
          labels: { alertname: 'HighLatency', path: "/a?b=<i>'c'</i>" },
        }),
      ],
    });
    await channel.send(notification);

    expect(receiver.logins).toEqual([{ username: 'alerts', password: 's3cret-pass' }]);
    expect(receiver.messages).toHaveLength(1);
    const { envelope, parsed } = receiver.messages[0]!;
    expect(envelope).toEqual({
      from: 'alerts@example.com',
      to: ['oncall@example.com', 'sre@example.com'],
    });
    expect(parsed.subject).toBe('[prod] [FIRING:1] HighLatency (GET /users)');
    expect(parsed.from?.value).toEqual([{ address: 'alerts@example.com', name: 'Alerts' }]);
    expect(parsed.headers.get('x-enterprise-delivery')).toBe(notification.id);

    expect(parsed.text).toContain('[FIRING:1] HighLatency (GET /users)');
    expect(parsed.text).toContain('[CRITICAL] HighLatency FIRING');
    expect(parsed.text).toContain('<script>alert("x")</script> & co');
    expect(parsed.text).toContain('value: 620');
    expect(parsed.text).toContain("labels: path=/a?b=<i>'c'</i>");

    const html = parsed.html as string;
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co');
    expect(html).toContain('path=/a?b=&lt;i&gt;&#39;c&#39;&lt;/i&gt;');
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<i>');
    expect(html).toContain('<strong>[CRITICAL] HighLatency FIRING</strong>');
  });

  it('rejects a refused message with the SMTP reply code, never showing the password', async () => {
    const receiver = await smtp({ auth: true });
    receiver.refuse = true;
    const channel = channelTo(receiver, {
      transport: {
        host: '127.0.0.1',
        port: receiver.port,
        auth: { user: 'alerts', pass: 's3cret-pass' },
      },
    });
    const error = (await rejectionOf(channel.send(sampleNotification()))) as AlertChannelError;
    expect(error).toBeInstanceOf(AlertChannelError);
    expect(error.context).toMatchObject({ channel: 'mail', status: 550 });
    expect(error.message).toMatch(/mailbox unavailable/);
    expect(`${error.message} ${JSON.stringify(error)}`).not.toContain('s3cret-pass');
  });

  it('gives up at the timeout on a server that never greets', async () => {
    const sockets = new Set<Socket>();
    const silent: Server = createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          for (const socket of sockets) socket.destroy();
          silent.close(() => resolve());
        }),
    );
    const port = (silent.address() as { port: number }).port;
    const channel = emailChannel({
      name: 'mail',
      transport: { host: '127.0.0.1', port },
      from: FROM,
      to: ['oncall@example.com'],
      timeout: '300ms',
    });
    cleanups.push(() => channel.close?.());
    const started = Date.now();
    const error = await rejectionOf(channel.send(sampleNotification()));
    expect(error).toBeInstanceOf(AlertChannelError);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('closes the pooled transporter it created, and refuses to send once closed', async () => {
    const receiver = await smtp();
    const channel = channelTo(receiver);
    await channel.send(sampleNotification());
    // The pooled connection stays open between notifications...
    expect(receiver.connections()).toBe(1);
    await channel.close!();
    // ...and close() ends it.
    await eventually(() => receiver.connections() === 0, 'the SMTP connection closed');
    const error = await rejectionOf(channel.send(sampleNotification()));
    expect(error).toBeInstanceOf(AlertChannelError);
    expect(error.message).toMatch(/closed/);
    expect(receiver.messages).toHaveLength(1);
  });

  it('sends through a given transporter and leaves closing it to its owner', async () => {
    const receiver = await smtp();
    const transporter = nodemailer.createTransport({
      host: '127.0.0.1',
      port: receiver.port,
      pool: true,
    });
    let closes = 0;
    const close = transporter.close.bind(transporter);
    transporter.close = () => {
      closes++;
      close();
    };
    cleanups.push(() => close());
    const channel = channelTo(receiver, { transport: transporter });
    await channel.send(sampleNotification());
    await channel.close!();
    expect(receiver.messages).toHaveLength(1);
    expect(closes).toBe(0);
    expect(receiver.connections()).toBe(1);
  });

  it('refuses invalid options at creation, without echoing credentials', () => {
    const create = (options: Record<string, unknown>) => () =>
      emailChannel({
        name: 'mail',
        transport: { host: 'smtp.example.com', port: 587 },
        from: FROM,
        to: ['oncall@example.com'],
        ...options,
      } as Parameters<typeof emailChannel>[0]);
    expect(create({})).not.toThrow();
    for (const [field, options] of [
      ['transport', { transport: undefined }],
      ['transport.host', { transport: { port: 25 } }],
      ['transport.port', { transport: { host: 'smtp.example.com', port: 0 } }],
      ['from', { from: '' }],
      ['to', { to: [] }],
      ['to', { to: 'oncall@example.com' }],
      ['subjectPrefix', { subjectPrefix: 3 }],
      ['timeout', { timeout: -1 }],
    ] as const) {
      const error = thrownBy(create(options));
      expect(error, field).toBeInstanceOf(AlertChannelError);
      expect((error as AlertChannelError).context.field, field).toBe(field);
    }
    const error = thrownBy(
      create({ transport: { host: 'h', port: 25, auth: { user: 'u', pass: 777_111 } } }),
    );
    expect((error as AlertChannelError).context.field).toBe('transport.auth');
    expect(`${error.message} ${JSON.stringify(error)}`).not.toContain('777111');
  });

  it('needs nodemailer only at the first send over SMTP, and names it when it is missing', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'tests/alerts/channels/fixtures/without-nodemailer.ts'],
      { timeout: 30_000 },
    );
    const result = JSON.parse(stdout.trim().split('\n').at(-1)!);
    // The child really runs without nodemailer...
    expect(result.hidden).toBe(true);
    expect(result.hiddenFromImport).toBe(true);
    // ...imports and creates the channel all the same, and fails at the send, naming the package.
    expect(result.created).toBe(true);
    expect(result.sent).toBeUndefined();
    expect(result.error).toMatchObject({
      name: 'MissingDependencyError',
      code: 'E_MISSING_DEPENDENCY',
      context: { package: 'nodemailer', feature: 'the email alert channel' },
    });
    expect(result.error.message).toMatch(/npm install nodemailer/);
    expect(result.givenSubjects).toEqual(['[FIRING:1] HighLatency (GET /users)']);
  });
});
