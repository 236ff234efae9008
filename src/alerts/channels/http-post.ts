import { AlertChannelError } from '../errors.js';
import { abortedError, throwIfAborted } from './checks.js';

// The one HTTP request the webhook and Slack channels make: a POST with a deadline, whose failures
// all become AlertChannelErrors. Errors name the URL's origin only: a webhook's path or query
// often holds its token (Slack's does).

/** How long a response body is kept in an error's context, in characters. */
const RESPONSE_EXCERPT = 300;

/**
 * Parses a channel's URL option; anything but an absolute http(s) URL throws.
 *
 * @internal
 */
export function parseHttpUrl(channel: string, field: string, value: unknown): URL {
  let url: URL | undefined;
  if (typeof value === 'string' || value instanceof URL) {
    try {
      url = new URL(value);
    } catch {
      url = undefined;
    }
  }
  if (url === undefined) {
    throw new AlertChannelError(`channel "${channel}": ${field} is not a valid absolute URL`, {
      channel,
      field,
    });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new AlertChannelError(
      `channel "${channel}": ${field} must be an http:// or https:// URL, not ${url.protocol}//`,
      { channel, field, protocol: url.protocol },
    );
  }
  return url;
}

/**
 * Validates extra request headers as `fetch` would, at creation rather than at the first alert.
 *
 * @internal
 */
export function checkHeaders(channel: string, headers: unknown): Record<string, string> {
  if (headers === undefined) return {};
  try {
    if (typeof headers !== 'object' || headers === null) throw new TypeError('not an object');
    new Headers(headers as Record<string, string>);
    return { ...(headers as Record<string, string>) };
  } catch (error) {
    throw new AlertChannelError(
      `channel "${channel}": headers must map header names to string values`,
      { channel, field: 'headers' },
      error,
    );
  }
}

/**
 * The delay a `Retry-After` header asks for, in milliseconds: delay-seconds or an HTTP date.
 *
 * @internal
 */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1_000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** One POST of a channel. */
export interface HttpPost {
  channel: string;
  url: URL;
  body: string;
  headers: Headers | Record<string, string>;
  timeoutMs: number;
  signal?: AbortSignal;
}

/**
 * Sends `request` and resolves on a 2xx answer. Throws an {@link AlertChannelError} on any other
 * status (`context.status`, `context.retryAfterMs` from `Retry-After`), on a network error, at the
 * deadline (`context.timeoutMs`) and when `signal` aborts. Redirects are not followed: a signed
 * body must reach the URL it was signed for or nowhere.
 *
 * @internal
 */
export async function httpPost(request: HttpPost): Promise<void> {
  const { channel, url, signal, timeoutMs } = request;
  throwIfAborted(channel, signal);
  const where = `POST ${url.origin}`;
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeoutMs);
  timer.unref();
  const onAbort = () => controller.abort(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: request.headers,
        body: request.body,
        redirect: 'manual',
        signal: controller.signal,
      });
    } catch (error) {
      if (timedOut) {
        throw new AlertChannelError(
          `channel "${channel}": ${where} timed out after ${timeoutMs} ms`,
          { channel, timeoutMs },
          error,
        );
      }
      if (signal?.aborted) throw abortedError(channel, signal);
      const reason = (error as { cause?: { message?: unknown } }).cause?.message;
      throw new AlertChannelError(
        `channel "${channel}": ${where} failed: ${typeof reason === 'string' ? reason : String(error)}`,
        { channel },
        error,
      );
    }
    if (response.status >= 200 && response.status < 300) {
      // Releases the connection without reading a body nobody needs.
      await response.body?.cancel().catch(() => undefined);
      return;
    }
    const excerpt = await response.text().then(
      (text) => text.slice(0, RESPONSE_EXCERPT),
      () => '',
    );
    const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
    throw new AlertChannelError(
      `channel "${channel}": ${where} answered ${response.status}${excerpt === '' ? '' : `: ${excerpt}`}`,
      {
        channel,
        status: response.status,
        ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
        ...(excerpt === '' ? {} : { response: excerpt }),
      },
    );
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
}
