import { createHmac } from 'node:crypto';
import * as vitest from 'vitest';
import { afterEach, describe, expect, it } from 'vitest';
import { verifyWebhookSignature, webhookChannel } from '../../../src/alerts/channels/index.js';
import { AlertChannelError } from '../../../src/alerts/errors.js';
import { describeAlertChannel, sampleNotification } from '../../../src/testing/index.js';
import { type HttpReceiver, ok, startHttpReceiver } from './receivers.js';
import { rejectionOf, thrownBy } from './thrown.js';

const SECRET = 'whsec_9f8e7d6c5b4a';

describeAlertChannel('webhook', vitest, {
  errorType: AlertChannelError,
  async create({ fail }) {
    const receiver = await startHttpReceiver((_request, response) => {
      response.writeHead(fail ? 500 : 204).end();
    });
    return {
      channel: webhookChannel({ name: 'ops-hook', url: receiver.url, secret: SECRET }),
      received: () => receiver.requests.length,
      cleanup: () => receiver.close(),
    };
  },
});

describe('webhookChannel', () => {
  let receivers: HttpReceiver[] = [];
  const receive = async (...args: Parameters<typeof startHttpReceiver>) => {
    const receiver = await startHttpReceiver(...args);
    receivers.push(receiver);
    return receiver;
  };
  afterEach(async () => {
    await Promise.all(receivers.map((receiver) => receiver.close()));
    receivers = [];
  });

  /** The rejection of `promise`, which must reject with an AlertChannelError. */
  const rejection = async (promise: Promise<unknown>): Promise<AlertChannelError> => {
    const error = await rejectionOf(promise);
    expect(error).toBeInstanceOf(AlertChannelError);
    return error as AlertChannelError;
  };

  it('POSTs { version: 1, ...notification } as JSON with the delivery id and extra headers', async () => {
    const receiver = await receive();
    const channel = webhookChannel({
      name: 'ops',
      url: receiver.url,
      headers: { Authorization: 'Bearer abc', 'Content-Type': 'text/plain' },
    });
    const notification = sampleNotification();
    await channel.send(notification);
    expect(receiver.requests).toHaveLength(1);
    const [request] = receiver.requests;
    expect(request!.method).toBe('POST');
    expect(request!.path).toBe('/hooks/alerts?token=t0k3n');
    expect(JSON.parse(request!.body)).toEqual({ version: 1, ...notification });
    expect(request!.headers['content-type']).toBe('application/json');
    expect(request!.headers['x-enterprise-delivery']).toBe(notification.id);
    expect(request!.headers.authorization).toBe('Bearer abc');
    expect(request!.headers['x-enterprise-signature']).toBeUndefined();
  });

  it('signs the body with the current time, and the signature verifies', async () => {
    const receiver = await receive();
    const channel = webhookChannel({ name: 'ops', url: receiver.url, secret: SECRET });
    const before = Math.floor(Date.now() / 1000);
    await channel.send(sampleNotification());
    const after = Math.floor(Date.now() / 1000);
    const { headers, body } = receiver.requests[0]!;
    const header = headers['x-enterprise-signature'] as string;
    const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header);
    expect(match).not.toBeNull();
    const t = Number(match![1]);
    expect(t).toBeGreaterThanOrEqual(before);
    expect(t).toBeLessThanOrEqual(after);
    expect(match![2]).toBe(createHmac('sha256', SECRET).update(`${t}.${body}`).digest('hex'));
    expect(verifyWebhookSignature({ secret: SECRET, header, body })).toBe(true);
    expect(verifyWebhookSignature({ secret: SECRET, header, body: Buffer.from(body) })).toBe(true);
  });

  it('refuses a tampered body, another secret, an old or future timestamp and malformed headers', async () => {
    const receiver = await receive();
    await webhookChannel({ name: 'ops', url: receiver.url, secret: SECRET }).send(
      sampleNotification(),
    );
    const { headers, body } = receiver.requests[0]!;
    const header = headers['x-enterprise-signature'] as string;
    const t = Number(/t=(\d+)/.exec(header)![1]) * 1000;
    const verify = (overrides: Partial<Parameters<typeof verifyWebhookSignature>[0]>) =>
      verifyWebhookSignature({ secret: SECRET, header, body, now: t, ...overrides });

    expect(verify({})).toBe(true);
    expect(verify({ body: body.replace('"step":0', '"step":1') })).toBe(false);
    expect(verify({ body: `${body} ` })).toBe(false);
    expect(verify({ secret: 'whsec_other' })).toBe(false);
    // Replays: valid up to the tolerance, refused past it, either way.
    expect(verify({ now: t + 300_000 })).toBe(true);
    expect(verify({ now: t + 301_000 })).toBe(false);
    expect(verify({ now: t - 301_000 })).toBe(false);
    expect(verify({ now: t + 20_000, toleranceSeconds: 10 })).toBe(false);
    // A replay with a fresh t but the old signature does not verify either.
    const fresh = header.replace(/t=\d+/, `t=${t / 1000 + 400}`);
    expect(verify({ header: fresh, now: t + 400_000 })).toBe(false);
    for (const bad of [undefined, null, '', 'v1=abc', `t=${t / 1000}`, 't=x,v1=00', 'garbage']) {
      expect(verify({ header: bad })).toBe(false);
    }
  });

  it('accepts any of several secrets while one is rotated, and any of several v1 signatures', async () => {
    const receiver = await receive();
    await webhookChannel({ name: 'ops', url: receiver.url, secret: SECRET }).send(
      sampleNotification(),
    );
    const { headers, body } = receiver.requests[0]!;
    const header = headers['x-enterprise-signature'] as string;
    expect(verifyWebhookSignature({ secret: ['whsec_new', SECRET], header, body })).toBe(true);
    expect(verifyWebhookSignature({ secret: ['whsec_new', 'whsec_old'], header, body })).toBe(
      false,
    );
    const twoSignatures = header.replace(',v1=', `,v1=${'0'.repeat(64)},v1=`);
    expect(verifyWebhookSignature({ secret: SECRET, header: twoSignatures, body })).toBe(true);
  });

  it('rejects a non-2xx answer with its status, and never shows the secret', async () => {
    const receiver = await receive((_request, response) => {
      response.writeHead(500).end('database down');
    });
    const channel = webhookChannel({ name: 'ops', url: receiver.url, secret: SECRET });
    const error = await rejection(channel.send(sampleNotification()));
    expect(error.code).toBe('E_ALERT_CHANNEL');
    expect(error.context).toMatchObject({ channel: 'ops', status: 500, response: 'database down' });
    expect(error.context.retryAfterMs).toBeUndefined();
    expect(error.message).toContain('500');
    // Only the origin is named: the path and query may hold a token.
    expect(error.message).not.toContain('t0k3n');
    expect(`${error.message} ${JSON.stringify(error)}`).not.toContain(SECRET);
  });

  it('reads Retry-After as seconds or as an HTTP date', async () => {
    let retryAfter = '7';
    const receiver = await receive((_request, response) => {
      response.writeHead(429, { 'retry-after': retryAfter }).end();
    });
    const channel = webhookChannel({ name: 'ops', url: receiver.url });
    expect((await rejection(channel.send(sampleNotification()))).context).toMatchObject({
      status: 429,
      retryAfterMs: 7_000,
    });
    retryAfter = new Date(Date.now() + 120_000).toUTCString();
    const { retryAfterMs } = (await rejection(channel.send(sampleNotification()))).context;
    expect(retryAfterMs).toBeGreaterThan(115_000);
    expect(retryAfterMs).toBeLessThanOrEqual(120_000);
  });

  it('does not follow redirects: the signed body goes to its URL or nowhere', async () => {
    const elsewhere = await receive();
    const receiver = await receive((_request, response) => {
      response.writeHead(307, { location: elsewhere.url }).end();
    });
    const channel = webhookChannel({ name: 'ops', url: receiver.url, secret: SECRET });
    expect((await rejection(channel.send(sampleNotification()))).context.status).toBe(307);
    expect(elsewhere.requests).toHaveLength(0);
  });

  it('gives up at the timeout on a receiver that never answers', async () => {
    const receiver = await receive(() => undefined);
    const channel = webhookChannel({ name: 'ops', url: receiver.url, timeout: '300ms' });
    const started = Date.now();
    const error = await rejection(channel.send(sampleNotification()));
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(1_500);
    expect(error.context).toMatchObject({ channel: 'ops', timeoutMs: 300 });
    expect(error.message).toMatch(/timed out after 300 ms/);
    expect(receiver.requests).toHaveLength(1);
  });

  it('stops waiting as soon as the caller aborts, with the reason as cause', async () => {
    const receiver = await receive(() => undefined);
    const channel = webhookChannel({ name: 'ops', url: receiver.url, timeout: 30 });
    const controller = new AbortController();
    const reason = new Error('shutting down');
    setTimeout(() => controller.abort(reason), 100);
    const started = Date.now();
    const error = await rejection(channel.send(sampleNotification(), controller.signal));
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(error.context).toMatchObject({ channel: 'ops', aborted: true });
    expect(error.cause).toBe(reason);
  });

  it('rejects with the network error as cause when nothing listens', async () => {
    const receiver = await receive(ok);
    const url = receiver.url;
    await receiver.close();
    receivers = [];
    const error = await rejection(webhookChannel({ name: 'ops', url }).send(sampleNotification()));
    expect(error.cause).toBeInstanceOf(Error);
    expect(error.message).toMatch(/ECONNREFUSED/);
    expect(error.context.status).toBeUndefined();
  });

  it('refuses at creation a URL that is not http(s), bad headers, a bad timeout or an empty secret', () => {
    const create = (options: Partial<Parameters<typeof webhookChannel>[0]>) => () =>
      webhookChannel({ name: 'ops', url: 'https://example.com/hook', ...options });
    expect(create({})).not.toThrow();
    expect(create({ url: 'http://127.0.0.1:1/x' })).not.toThrow();
    expect(create({ url: new URL('https://example.com/x') })).not.toThrow();
    for (const url of ['ftp://example.com/hook', 'file:///etc/passwd', 'not a url', '/relative']) {
      expect(create({ url }), url).toThrow(AlertChannelError);
    }
    expect(create({ url: 'ftp://example.com/hook' })).toThrow(/must be an http:\/\/ or https:\/\//);
    expect(create({ headers: { 'bad header': 'x' } })).toThrow(AlertChannelError);
    expect(create({ timeout: 0 })).toThrow(AlertChannelError);
    expect(create({ timeout: 'soon' as never })).toThrow(/timeout/);
    expect(create({ secret: '' })).toThrow(AlertChannelError);
    expect(create({ name: '' })).toThrow(AlertChannelError);
    // A secret of the wrong type is refused without being echoed.
    const thrown = thrownBy(create({ secret: 9_876_543 as never }));
    expect(thrown).toBeInstanceOf(AlertChannelError);
    expect(`${thrown.message} ${JSON.stringify(thrown)}`).not.toContain('9876543');
  });
});
