import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import type { Alerts } from '../../src/alerts/alerts.js';
import type { AlertsOptions } from '../../src/alerts/options.js';
import type { Clock } from '../../src/core/clock.js';
import { createEnterprise, type Enterprise } from '../../src/index.js';
import type { MonitoringRouter, MonitoringSnapshot } from '../../src/monitoring/index.js';

export const silent = {
  trace() {},
  debug() {},
  info() {},
  warn() {},
  error() {},
  fatal() {},
};

/** An isolated instance with a silent logger and no system sampler unless asked. */
export function testEnterprise(options: Parameters<typeof createEnterprise>[0] = {}): Enterprise {
  return createEnterprise({ logger: silent, env: {}, ...options });
}

export const TOKEN = 's3cret-token';
export const AUTH = { authorization: `Bearer ${TOKEN}` };

/** `router.fetch` of a request to `path` (relative to the mount point). */
export function call(
  router: MonitoringRouter,
  path: string,
  init: RequestInit & { headers?: Record<string, string> } = {},
): Promise<Response> {
  return router.fetch(new Request(`http://monitoring.test${path}`, init));
}

/** A real listening node:http server in front of the router, through @hono/node-server. */
export async function listen(router: MonitoringRouter): Promise<{ server: Server; url: string }> {
  const server = createServer(getRequestListener((request) => router.fetch(request)));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}` };
}

export async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** A port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Polls `check` every 10 ms until it holds, for at most `timeoutMs`. */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs = 3_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** The JSON body of `response`, typed loosely: the tests assert its shape right after. */
export function json(response: Response): Promise<any> {
  return response.json() as Promise<any>;
}

/**
 * `enterprise` with an alerts module: `peek('alerts')` and `alerts` answer `alerts` (or what the
 * function returns at each call, `undefined` for "not built yet"), and `shutdown()` closes it.
 *
 * For tests that decide when the module appears (a module built while a stream is open) or hand
 * in an engine of their own; `alertsEnterprise()` builds one through the composition.
 */
export function withAlerts(
  enterprise: Enterprise,
  alerts: Alerts | (() => Alerts | undefined),
): Enterprise {
  const current = typeof alerts === 'function' ? alerts : () => alerts;
  return new Proxy(enterprise, {
    get(target, property) {
      if (property === 'peek') {
        return (name: 'cache' | 'tasks' | 'alerts') =>
          name === 'alerts' ? current() : target.peek(name);
      }
      if (property === 'alerts') return current();
      if (property === 'shutdown') {
        return async () => {
          await current()?.close();
          await target.shutdown();
        };
      }
      // The instance's getters and methods run on the instance itself (its #private fields).
      const value = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** A clock the test moves by hand; `epochNow()` starts at a round date. */
export function manualClock(): Clock & { advance(ms: number): void } {
  let t = 0;
  return {
    now: () => t,
    epochNow: () => 1_700_000_000_000 + t,
    advance(ms: number) {
      t += ms;
    },
  };
}

/**
 * An isolated instance whose alerts module is built by the composition (no built-in rules, memory
 * store, deliveries dropped, the given clock): evaluate it with `alerts.evaluate()`.
 */
export function alertsEnterprise(
  options: AlertsOptions = {},
  enterpriseOptions: Parameters<typeof createEnterprise>[0] = {},
): { enterprise: Enterprise; alerts: Alerts } {
  const enterprise = testEnterprise({
    ...enterpriseOptions,
    alerts: { builtin: false, store: 'memory', deliver: () => {}, ...options },
  });
  return { enterprise, alerts: enterprise.alerts };
}

/** One event of a text/event-stream, as its fields. */
export interface SseEvent {
  id?: string;
  event?: string;
  data?: string;
  comment?: string;
  retry?: string;
}

/** Reads a text/event-stream body into events as they arrive. */
export class SseReader {
  readonly events: SseEvent[] = [];
  #buffer = '';
  #done = false;
  readonly finished: Promise<void>;

  constructor(body: ReadableStream<Uint8Array>) {
    const reader = body.getReader();
    const decoder = new TextDecoder();
    this.finished = (async () => {
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          this.#buffer += decoder.decode(value, { stream: true });
          let end = this.#buffer.indexOf('\n\n');
          while (end !== -1) {
            this.#parse(this.#buffer.slice(0, end));
            this.#buffer = this.#buffer.slice(end + 2);
            end = this.#buffer.indexOf('\n\n');
          }
        }
      } catch {
        // Aborted by the test.
      } finally {
        this.#done = true;
      }
    })();
  }

  get done(): boolean {
    return this.#done;
  }

  #parse(block: string): void {
    const event: SseEvent = {};
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) event.comment = line.slice(1).trim();
      else {
        const colon = line.indexOf(':');
        const field = line.slice(0, colon) as keyof SseEvent;
        event[field] = line.slice(colon + 1).trimStart();
      }
    }
    this.events.push(event);
  }

  snapshots(): MonitoringSnapshot[] {
    return this.events
      .filter((event) => event.event === 'snapshot')
      .map((event) => JSON.parse(event.data!) as MonitoringSnapshot);
  }
}

/**
 * Checks `value` against a schema of the OpenAPI document (the subset of JSON Schema it uses).
 * Strict about objects: a property the schema does not declare is reported, so the document
 * cannot fall behind what the endpoint sends.
 */
export function conforms(doc: any, value: unknown, schema: any, path = '$'): string[] {
  if (schema.$ref !== undefined) {
    return conforms(doc, value, doc.components.schemas[schema.$ref.split('/').pop()], path);
  }
  if (schema.oneOf !== undefined) {
    const passing = schema.oneOf.filter(
      (option: any) => conforms(doc, value, option, path).length === 0,
    );
    return passing.length === 1 ? [] : [`${path}: matches ${passing.length} of oneOf`];
  }
  if (schema.const !== undefined && value !== schema.const) return [`${path}: not ${schema.const}`];
  if (schema.enum !== undefined && !schema.enum.includes(value)) {
    return [`${path}: ${JSON.stringify(value)} not in enum`];
  }
  const types: string[] = schema.type === undefined ? [] : [schema.type].flat();
  const typeOf = (v: unknown) =>
    v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v === 'object' ? 'object' : typeof v;
  if (types.length > 0) {
    const actual = typeOf(value);
    const ok = types.some(
      (type) =>
        type === actual || (type === 'integer' && actual === 'number' && Number.isInteger(value)),
    );
    if (!ok) return [`${path}: ${actual} is not ${types.join('|')}`];
  }
  const errors: string[] = [];
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) errors.push(`${path}: < min`);
    if (schema.maximum !== undefined && value > schema.maximum) errors.push(`${path}: > max`);
    if (schema.exclusiveMinimum !== undefined && value <= schema.exclusiveMinimum) {
      errors.push(`${path}: <= exclusive min`);
    }
  }
  if (Array.isArray(value) && schema.items !== undefined) {
    value.forEach((item, i) => {
      errors.push(...conforms(doc, item, schema.items, `${path}[${i}]`));
    });
  } else if (typeOf(value) === 'object') {
    const record = value as Record<string, unknown>;
    for (const key of schema.required ?? []) {
      if (!(key in record)) errors.push(`${path}: missing ${key}`);
    }
    for (const [key, item] of Object.entries(record)) {
      if (schema.propertyNames !== undefined) {
        errors.push(...conforms(doc, key, schema.propertyNames, `${path}{${key}}`));
      }
      const declared = schema.properties?.[key];
      if (declared !== undefined) errors.push(...conforms(doc, item, declared, `${path}.${key}`));
      else if (typeof schema.additionalProperties === 'object') {
        errors.push(...conforms(doc, item, schema.additionalProperties, `${path}.${key}`));
      } else if (schema.properties !== undefined) {
        errors.push(`${path}: ${key} is not in the schema`);
      }
    }
  }
  return errors;
}
