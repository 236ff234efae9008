import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  REQUEST_ID_HEADER,
  type RequestInstrumentation,
} from '../monitoring/request-instrumentation.js';
import { beginNodeRequest } from './node-bridge.js';

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
}

/** Fastify's route template: `routeOptions.url` (Fastify 5 and 4.10+), else `routerPath`. @internal */
export function fastifyRoute(request: FastifyRequestLike): string | undefined {
  return request.routeOptions?.url ?? request.routerPath;
}

/**
 * @internal The `onRequest` hook the Fastify plugin installs for `instrumentation`: correlation id,
 * headers, route template, and the rest of the request run in its context. Apart from the plugin
 * so that `bench:http` can drive the same hook.
 */
export function instrumentationHook(
  instrumentation: RequestInstrumentation,
): (request: FastifyRequestLike, reply: FastifyReplyLike, done: () => void) => void {
  return (request, reply, done) => {
    const record = beginNodeRequest(instrumentation, request.raw, reply.raw, undefined, false);
    // Through the reply: Fastify validates them once, when it writes the head.
    reply.headers(instrumentation.headerObject);
    reply.header(REQUEST_ID_HEADER, record.correlationId);
    record.route = fastifyRoute(request);
    instrumentation.run(record, done);
  };
}
