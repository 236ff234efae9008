import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Duration } from '../../core/duration.js';
import { AlertChannelError } from '../errors.js';
import type { AlertChannel, AlertNotification, ChannelDocument } from '../types.js';
import { checkName, checkTimeout } from './checks.js';
import { checkHeaders, httpPost, parseHttpUrl } from './http-post.js';

/** Options of {@link webhookChannel}. */
export interface WebhookChannelOptions {
  /** The channel's name, unique among an instance's channels. */
  name: string;
  /** Where notifications are POSTed: an http:// or https:// URL. */
  url: string | URL;
  /**
   * Signs each request (`X-Enterprise-Signature`) so the receiver can tell it came from here and
   * is fresh; see {@link verifyWebhookSignature}. Never logged nor put in an error.
   */
  secret?: string;
  /** Extra request headers (an `Authorization` header, say). They cannot replace the ones set here. */
  headers?: Record<string, string>;
  /** How long one delivery may take, the response included. Default 10 seconds. */
  timeout?: Duration;
}

/** The header carrying the notification id, the same across retries of one notification. */
export const DELIVERY_HEADER = 'X-Enterprise-Delivery';
/** The header carrying `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`. */
export const SIGNATURE_HEADER = 'X-Enterprise-Signature';

/**
 * A channel that POSTs each notification as JSON, `{ "version": 1, ...notification }`, with the
 * notification id in `X-Enterprise-Delivery` (receivers drop duplicates by it) and, when `secret`
 * is set, a signature in `X-Enterprise-Signature`: `t=<unix seconds>,v1=<hex HMAC-SHA256 of
 * "<t>.<raw body>">`, as Stripe signs its webhooks. Any answer but 2xx, a network error or the
 * timeout rejects with an {@link AlertChannelError} (`context.status`, `context.retryAfterMs`).
 *
 * @throws AlertChannelError at creation when the URL is not http(s) or an option is invalid.
 * @example
 * ```ts
 * const ops = webhookChannel({
 *   name: 'ops',
 *   url: 'https://ops.example.com/hooks/alerts',
 *   secret: process.env.ALERT_WEBHOOK_SECRET,
 *   timeout: '5s',
 * });
 * ```
 */
export function webhookChannel(options: WebhookChannelOptions): AlertChannel {
  const name = checkName(options.name);
  const url = parseHttpUrl(name, 'url', options.url);
  const headers = checkHeaders(name, options.headers);
  const timeoutMs = checkTimeout(name, options.timeout, 10);
  const secret = options.secret;
  if (secret !== undefined && (typeof secret !== 'string' || secret === '')) {
    // The value itself stays out of the error: it is meant to be a secret.
    throw new AlertChannelError(`channel "${name}": secret must be a non-empty string`, {
      channel: name,
      field: 'secret',
    });
  }
  const post = async (id: string, body: string, signal: AbortSignal | undefined) => {
    // Set over the extra headers, whatever their case: these are the contract with the receiver.
    const request = new Headers(headers);
    request.set('content-type', 'application/json');
    request.set(DELIVERY_HEADER, id);
    if (secret !== undefined) {
      request.set(SIGNATURE_HEADER, signatureHeader(secret, body, Date.now()));
    } else {
      request.delete(SIGNATURE_HEADER);
    }
    await httpPost({ channel: name, url, body, headers: request, timeoutMs, signal });
  };
  return {
    name,
    send: (notification: AlertNotification, signal?: AbortSignal): Promise<void> =>
      post(notification.id, JSON.stringify({ version: 1, ...notification }), signal),
    // `{ version, kind, id, subject, data }`: a receiver tells a report from an alert by `kind`.
    sendDocument: (document: ChannelDocument, signal?: AbortSignal): Promise<void> =>
      post(
        document.id,
        JSON.stringify({
          version: 1,
          kind: document.kind,
          id: document.id,
          subject: document.subject,
          data: document.json,
        }),
        signal,
      ),
  };
}

/** `t=<unix seconds>,v1=<hex HMAC>` for `body` signed at `nowMs`. */
function signatureHeader(secret: string, body: string, nowMs: number): string {
  const t = Math.floor(nowMs / 1_000);
  return `t=${t},v1=${sign(secret, t, body)}`;
}

function sign(secret: string, t: number | string, body: string | Uint8Array): string {
  return createHmac('sha256', secret).update(`${t}.`).update(body).digest('hex');
}

/** Options of {@link verifyWebhookSignature}. */
export interface VerifyWebhookSignatureOptions {
  /** The channel's secret; several while rotating (any one verifies). */
  secret: string | readonly string[];
  /** The `X-Enterprise-Signature` header as received. */
  header: string | null | undefined;
  /** The raw request body, byte for byte as received: not a re-serialized parse of it. */
  body: string | Uint8Array;
  /** How old (or how far in the future) a signature may be. Default 300 seconds. */
  toleranceSeconds?: number;
  /** The receiver's clock, epoch milliseconds. Default `Date.now()`. */
  now?: number;
}

/**
 * Whether a webhook request is authentic and fresh: its `X-Enterprise-Signature` holds a `v1`
 * HMAC of `"<t>.<body>"` under `secret`, and `t` lies within `toleranceSeconds` of `now`, so a
 * captured request cannot be replayed later. The comparison is constant-time. Never throws: a
 * missing or malformed header is simply not valid.
 *
 * @example
 * ```ts
 * // In the receiver, with the raw body (express.raw(), or `await request.text()`):
 * if (!verifyWebhookSignature({ secret, header: req.get('x-enterprise-signature'), body: req.body })) {
 *   return res.status(401).end();
 * }
 * ```
 */
export function verifyWebhookSignature(options: VerifyWebhookSignatureOptions): boolean {
  const { header, body, toleranceSeconds = 300, now = Date.now() } = options;
  const secrets = typeof options.secret === 'string' ? [options.secret] : options.secret;
  if (typeof header !== 'string' || (typeof body !== 'string' && !(body instanceof Uint8Array))) {
    return false;
  }
  let t: string | undefined;
  const signatures: Buffer[] = [];
  for (const part of header.split(',')) {
    const at = part.indexOf('=');
    const key = part.slice(0, at).trim();
    const value = part.slice(at + 1).trim();
    if (key === 't') t = value;
    else if (key === 'v1' && /^[0-9a-f]{64}$/i.test(value))
      signatures.push(Buffer.from(value, 'hex'));
  }
  if (t === undefined || !/^\d{1,15}$/.test(t) || signatures.length === 0) return false;
  if (!(Math.abs(now / 1_000 - Number(t)) <= toleranceSeconds)) return false;
  let valid = false;
  for (const secret of secrets) {
    if (typeof secret !== 'string' || secret === '') continue;
    const expected = Buffer.from(sign(secret, t, body), 'hex');
    // Every candidate is compared, so the time taken does not tell which one matched.
    for (const candidate of signatures) valid = timingSafeEqual(expected, candidate) || valid;
  }
  return valid;
}
