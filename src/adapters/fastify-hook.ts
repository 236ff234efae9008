import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  REQUEST_ID_HEADER,
  type RequestInstrumentation,
  type RequestRecord,
  type SecurityVerdict,
} from '../monitoring/request-instrumentation.js';
import { beginNodeRequest, screenedNodeRequest } from './node-bridge.js';

/** The parts of a Fastify request the plugin reads (Fastify 4 and 5). @internal */
export interface FastifyRequestLike {
  raw: IncomingMessage;
  url: string;
  method: string;
  body?: unknown;
  routeOptions?: { url?: string };
  routerPath?: string;
}

/** The parts of a Fastify reply the plugin uses. @internal */
export interface FastifyReplyLike {
  raw: ServerResponse;
  hijack(): unknown;
  header(name: string, value: string): unknown;
  headers(values: Readonly<Record<string, string>>): unknown;
  code(status: number): unknown;
  send(payload?: unknown): unknown;
}

/** Fastify's route template: `routeOptions.url` (Fastify 5 and 4.10+), else `routerPath`. @internal */
export function fastifyRoute(request: FastifyRequestLike): string | undefined {
  return request.routeOptions?.url ?? request.routerPath;
}

type Hook = (request: FastifyRequestLike, reply: FastifyReplyLike, done: () => void) => void;

/**
 * @internal The `onRequest` hook the Fastify plugin installs for `instrumentation`: correlation id,
 * headers, route template, and the rest of the request run in its context. Apart from the plugin
 * so that `bench:http` can drive the same hook. With the `security` option, the request is
 * inspected first: a refusal is sent with `reply.send()` and `done` is never called (Fastify's way
 * to answer from a hook); a verdict a remote store has to decide calls `done` once it is known.
 */
export function instrumentationHook(instrumentation: RequestInstrumentation): Hook {
  const guard = instrumentation.security;
  if (guard === undefined) {
    return (request, reply, done) => {
      const record = begin(instrumentation, request, reply);
      instrumentation.run(record, done);
    };
  }
  return (request, reply, done) => {
    const record = begin(instrumentation, request, reply);
    const verdict = guard.screen(record, screenedNodeRequest(request.raw, record.correlationId));
    if (verdict instanceof Promise) {
      verdict
        .then((settled) => settle(instrumentation, record, reply, done, settled))
        .catch((error: unknown) => {
          // Only a throw from Fastify's own chain lands here; the request was already on its way.
          record.enterprise.logger.error({ err: error }, 'the request failed after its inspection');
        });
      return;
    }
    settle(instrumentation, record, reply, done, verdict);
  };
}

function begin(
  instrumentation: RequestInstrumentation,
  request: FastifyRequestLike,
  reply: FastifyReplyLike,
): RequestRecord {
  const record = beginNodeRequest(instrumentation, request.raw, reply.raw, undefined, false);
  // Through the reply: Fastify validates them once, when it writes the head.
  reply.headers(instrumentation.headerObject);
  reply.header(REQUEST_ID_HEADER, record.correlationId);
  record.route = fastifyRoute(request);
  return record;
}

function settle(
  instrumentation: RequestInstrumentation,
  record: RequestRecord,
  reply: FastifyReplyLike,
  done: () => void,
  verdict: SecurityVerdict | undefined,
): void {
  const refusal = verdict?.refusal;
  if (refusal !== undefined) {
    reply.code(refusal.status);
    reply.headers(refusal.headers);
    // A string, so Fastify sends the body as given under the refusal's own content type.
    reply.send(JSON.stringify(refusal.body));
    return;
  }
  if (verdict?.headers !== undefined) reply.headers(verdict.headers);
  instrumentation.run(record, done);
}
