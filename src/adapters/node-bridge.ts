import type { IncomingMessage, ServerResponse } from 'node:http';
import { getCorrelationId } from '../core/context.js';
import {
  REQUEST_ID_HEADER,
  type RequestInstrumentation,
  type RequestRecord,
  type SecurityRefusal,
  type SecurityVerdict,
} from '../monitoring/request-instrumentation.js';
import type { RequestSecurity, ScreenedRequest } from '../monitoring/request-security.js';

/**
 * What the Node-based adapters (Express, Koa, Fastify, NestJS, plain `node:http`) share: the
 * request instrumentation on a Node request/response pair, and the translation between a Node
 * request/response and the Web `Request`/`Response` the monitoring router speaks.
 *
 * @internal
 */

/** Set by the monitoring mount on requests it serves: the route template to record them under. */
export const MONITORING_ROUTE = Symbol.for('@revcopy/enterprise/monitoring-route');

/** Finds a request's route template at the end of the response; `undefined` when none matched. */
export type NodeRouteOf = (req: IncomingMessage) => string | undefined;

/**
 * Starts instrumenting a Node request: correlation id echoed in `x-request-id`, the inbound
 * `traceparent` / `tracestate` continued (or a trace started), security headers,
 * and the `http.request` record written when the response closes (finished or aborted). The
 * returned record is to be passed to `instrumentation.run()` around the rest of the host's chain.
 * With `setHeaders` false the adapter sets the headers the framework's own, cheaper way.
 * The `close` listener is a closure over the request, the record and the instrumentation rather
 * than properties added to the response or read back from it: Express swaps the prototype of every
 * request and response, and a property added to such an object, or looked up through its chain,
 * cost several times a closure (seen in CPU profiles of Express under load).
 */
export function beginNodeRequest(
  instrumentation: RequestInstrumentation,
  req: IncomingMessage,
  res: ServerResponse,
  routeOf: NodeRouteOf | undefined,
  setHeaders = true,
): RequestRecord {
  const headers = req.headers;
  const record = instrumentation.begin(
    req.method ?? 'GET',
    headers[REQUEST_ID_HEADER],
    headers.traceparent,
    headers.tracestate,
  );
  if (setHeaders) {
    res.setHeader(REQUEST_ID_HEADER, record.correlationId);
    const set = instrumentation.headers;
    for (let i = 0; i < set.length; i++) {
      const header = set[i]!;
      res.setHeader(header[0], header[1]);
    }
    if (instrumentation.hidePoweredBy) res.removeHeader('x-powered-by');
  }
  res.on('close', () => endNodeRequest(instrumentation, routeOf, req, res, record));
  return record;
}

function endNodeRequest(
  instrumentation: RequestInstrumentation,
  routeOf: NodeRouteOf | undefined,
  req: IncomingMessage,
  res: ServerResponse,
  record: RequestRecord,
): void {
  // An own-property test: a plain read of a symbol most requests lack walks the whole prototype
  // chain, which Express swaps on every request for one in dictionary mode (seen in CPU profiles).
  let route = Object.hasOwn(req, MONITORING_ROUTE)
    ? (req as IncomingMessage & { [MONITORING_ROUTE]?: string })[MONITORING_ROUTE]
    : undefined;
  if (route === undefined && routeOf !== undefined) {
    try {
      route = routeOf(req);
    } catch {
      route = undefined;
    }
  }
  instrumentation.end(record, route, res.statusCode, !res.writableFinished);
}

/**
 * What the security module reads of a Node request: the raw path and query split once at the first
 * `?`, the headers object as Node parsed it, the socket's address and whether it is TLS. `url` is
 * the request's URL as received (Express's `originalUrl`, before any mount rewrote `req.url`).
 */
export function screenedNodeRequest(
  req: IncomingMessage,
  correlationId: string,
  url: string = req.url ?? '/',
): ScreenedRequest {
  let target = url;
  // The absolute form (`GET http://host/path`, as sent to a proxy): the path starts after the host.
  if (target.charCodeAt(0) !== 47 && target.includes('://')) {
    const slash = target.indexOf('/', target.indexOf('://') + 3);
    target = slash === -1 ? '/' : target.slice(slash);
  }
  const mark = target.indexOf('?');
  const socket = req.socket as (IncomingMessage['socket'] & { encrypted?: boolean }) | null;
  return {
    method: req.method ?? 'GET',
    path: mark === -1 ? target : target.slice(0, mark),
    query: mark === -1 ? '' : target.slice(mark + 1),
    headers: req.headers,
    remoteAddress: socket?.remoteAddress,
    correlationId,
    secure: socket?.encrypted === true,
  };
}

/** Sends a security refusal (403 or 429 with its JSON body) instead of running the route. */
export function sendRefusal(res: ServerResponse, refusal: SecurityRefusal): void {
  if (res.headersSent) {
    if (!res.writableEnded) res.end();
    return;
  }
  const body = JSON.stringify(refusal.body);
  res.statusCode = refusal.status;
  for (const name in refusal.headers) res.setHeader(name, refusal.headers[name]!);
  res.setHeader('content-length', Buffer.byteLength(body));
  res.end(body);
}

/**
 * Screens a Node request with the middleware's `security` option, then runs `proceed` (the rest of
 * the host's chain, at once or once a remote store decided), or sends the refusal and never runs
 * it. An allowed request gets the verdict's headers (`RateLimit`). Returns what `proceed` returned,
 * or a promise of it when the verdict had to be awaited; rejects only if `proceed` throws.
 */
export function guardNodeRequest<T>(
  guard: RequestSecurity,
  record: RequestRecord,
  req: IncomingMessage,
  res: ServerResponse,
  url: string | undefined,
  proceed: () => T,
): T | Promise<T | undefined> | undefined {
  const verdict = guard.screen(record, screenedNodeRequest(req, record.correlationId, url));
  if (verdict instanceof Promise) {
    return verdict.then((settled) => settleNodeVerdict(settled, res, proceed));
  }
  return settleNodeVerdict(verdict, res, proceed);
}

function settleNodeVerdict<T>(
  verdict: SecurityVerdict | undefined,
  res: ServerResponse,
  proceed: () => T,
): T | undefined {
  if (verdict !== undefined) {
    if (verdict.refusal !== undefined) {
      sendRefusal(res, verdict.refusal);
      return undefined;
    }
    const headers = verdict.headers;
    // The client left while a remote store decided: nothing to run the route for.
    if (res.destroyed) return undefined;
    if (headers !== undefined && !res.headersSent) {
      for (const name in headers) res.setHeader(name, headers[name]!);
    }
  }
  return proceed();
}

/** Largest body the monitoring router is handed (its actions take a small JSON body at most). */
const MAX_BODY_BYTES = 1024 * 1024;

/**
 * Builds the Web `Request` for the monitoring router from a Node request. `path` is the path and
 * query relative to the mount point. A body the host's parser already consumed (`parsed`) is
 * passed on re-encoded; an unread one is read here (up to 1 MiB). The request's signal aborts when
 * the client disconnects.
 */
export async function toWebRequest(
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  parsed: unknown,
): Promise<Request> {
  const controller = new AbortController();
  const abort = () => {
    if (!res.writableFinished) controller.abort();
  };
  res.once('close', abort);
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || name.startsWith(':')) continue;
    if (Array.isArray(value)) for (const item of value) headers.append(name, item);
    else headers.set(name, value);
  }
  // The router echoes the inbound id: hand it the one the middleware chose for this request.
  const id = getCorrelationId();
  if (id !== undefined) headers.set(REQUEST_ID_HEADER, id);
  const method = req.method ?? 'GET';
  let body: Uint8Array | undefined;
  if (method !== 'GET' && method !== 'HEAD') {
    body = await readBody(req, parsed);
    if (body !== undefined) headers.delete('content-length');
  }
  const secure = (req.socket as { encrypted?: boolean } | null)?.encrypted === true;
  return new Request(originOf(req, secure) + (path.startsWith('/') ? path : `/${path}`), {
    method,
    headers,
    body,
    signal: controller.signal,
  });
}

function originOf(req: IncomingMessage, secure: boolean): string {
  const host = req.headers.host;
  const origin = `${secure ? 'https' : 'http'}://${host ?? 'localhost'}`;
  try {
    return new URL(origin).origin;
  } catch {
    return secure ? 'https://localhost' : 'http://localhost';
  }
}

async function readBody(req: IncomingMessage, parsed: unknown): Promise<Uint8Array | undefined> {
  if (parsed !== undefined) {
    if (parsed instanceof Uint8Array) return parsed;
    if (typeof parsed === 'string') return Buffer.from(parsed);
    try {
      return Buffer.from(JSON.stringify(parsed) ?? '');
    } catch {
      return undefined;
    }
  }
  // Consumed by a parser that left nothing behind, or never sent: no body.
  if (req.readableEnded || (req.readableLength === 0 && req.complete)) return undefined;
  const declared = Number(req.headers['content-length']);
  if (declared > MAX_BODY_BYTES) throw new BodyTooLargeError();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) {
        chunks.push(chunk);
        return;
      }
      // Stop reading but keep the socket: the 413 still has to be written on it.
      cleanup();
      req.pause();
      reject(new BodyTooLargeError());
    };
    const onEnd = () => {
      cleanup();
      resolve(size === 0 ? undefined : Buffer.concat(chunks));
    };
    const onError = (error: unknown) => {
      cleanup();
      reject(error);
    };
    const onClose = () => {
      cleanup();
      reject(new Error('the client closed the request before its body ended'));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

/**
 * @internal A request body larger than the router accepts: answered 413 without passing a
 * truncated body on (the action would otherwise run on part of what the client sent).
 */
export class BodyTooLargeError extends Error {
  readonly status = 413;
  constructor() {
    super(`the request body exceeds ${MAX_BODY_BYTES} bytes`);
    this.name = 'BodyTooLargeError';
  }
}

/**
 * Writes a Web `Response` to a Node response. An event stream is written chunk by chunk as it
 * comes (flushed through a compression middleware's `flush()` when there is one), with
 * back-pressure; any other body is sent whole, with its length. When the client leaves, the stream
 * is cancelled so the router frees it at once.
 */
export async function sendWebResponse(
  res: ServerResponse,
  response: Response,
  method: string | undefined,
): Promise<void> {
  const body = response.body;
  const head = body === null || method === 'HEAD';
  const streaming = (response.headers.get('content-type') ?? '').startsWith('text/event-stream');
  // A whole body is read before any header is set: should reading it fail, the 500 the caller
  // sends carries none of this response's headers (an asset's year-long cache-control, its etag).
  const bytes = head || streaming ? undefined : Buffer.from(await response.arrayBuffer());
  res.statusCode = response.status;
  const cookies = response.headers.getSetCookie();
  for (const [name, value] of response.headers) {
    if (name !== 'set-cookie') res.setHeader(name, value);
  }
  if (cookies.length > 0) res.setHeader('set-cookie', cookies);
  // The router never advertises the host's framework, whatever the host set before it.
  res.removeHeader('x-powered-by');
  if (head) {
    await body?.cancel().catch(() => undefined);
    res.end();
    return;
  }
  if (bytes !== undefined) {
    res.setHeader('content-length', bytes.length);
    res.end(bytes);
    return;
  }
  await pipeStream(res, body);
}

async function pipeStream(res: ServerResponse, body: ReadableStream<Uint8Array>): Promise<void> {
  const reader = body.getReader();
  const cancel = () => {
    reader.cancel().catch(() => undefined);
  };
  res.once('close', cancel);
  res.flushHeaders();
  const flush = (res as { flush?: () => void }).flush;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (res.destroyed) break;
      const ok = res.write(value);
      if (typeof flush === 'function') flush.call(res);
      if (!ok && !res.destroyed) {
        await new Promise<void>((resolve) => {
          const settle = () => {
            res.off('drain', settle);
            res.off('close', settle);
            resolve();
          };
          res.on('drain', settle);
          res.on('close', settle);
        });
      }
    }
  } catch {
    // The stream failed or was cancelled because the client left: nothing more to write.
  } finally {
    res.off('close', cancel);
    // The stream ended on the server's side (the router closed): close the connection too, or an
    // idle keep-alive socket would hold a closing server open until its keep-alive timeout.
    const socket = res.socket;
    if (!res.destroyed) res.end(() => socket?.destroy());
    try {
      reader.releaseLock();
    } catch {
      // A read still pending after a failure: the lock goes with the stream.
    }
  }
}
