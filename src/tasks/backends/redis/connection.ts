import type { Cluster, Redis, RedisOptions } from 'ioredis';
import { describeValue, EnterpriseError, InvalidArgumentError } from '../../../core/errors.js';
import { rejectAfter } from '../../../core/timeout.js';
import { createClient, type RedisClient, resolveClient, whenReady } from '../../../redis/client.js';

/**
 * A Redis command of the task backend failed (Redis unreachable, a timeout, a script error). The
 * engine treats it like any failed store call: it retries claims and acknowledgements later.
 *
 * @example
 * ```ts
 * try { await backend.claim('default', 'w1', 10, 30_000); }
 * catch (error) { if (error instanceof TaskBackendError) console.warn(error.context.operation); }
 * ```
 */
export class TaskBackendError extends EnterpriseError {
  constructor(message: string, context: Record<string, unknown> = {}, cause?: unknown) {
    super('E_TASK_BACKEND', message, { context, cause });
  }
}

/** How {@link BackendConnection} reaches Redis: the backend options it reads. */
export interface ConnectionOptions {
  url?: string | undefined;
  client?: RedisClient | undefined;
  onError?: ((error: Error) => void) | undefined;
}

/**
 * The Redis task backend's command connection: the given client or one of its own on `url`, the
 * calls made on it (bounded, retried once after a dropped connection, errors wrapped), the copies
 * its blocking and subscriber connections are made from, and where background errors go.
 */
export class BackendConnection {
  /** The command connection: the client given, or the one the backend created. */
  readonly client: RedisClient;
  /** Whether the backend created {@link client} (and so closes it). */
  readonly owned: boolean;
  /** Set by the backend's `close()`: every call after it is refused. */
  closing: Promise<void> | undefined;
  readonly #url: string | undefined;
  readonly #prefix: string;
  readonly #timeoutMs: number;
  readonly #onError: ((error: Error) => void) | undefined;
  /** A given client without its own commandTimeout: the backend bounds each call itself. */
  readonly #guardCalls: boolean;
  #connecting: Promise<void> | undefined;

  constructor(options: ConnectionOptions, prefix: string, timeoutMs: number) {
    this.#prefix = prefix;
    this.#timeoutMs = timeoutMs;
    this.#onError = options.onError;
    this.#url = options.url;
    const onError = (error: Error) => this.report(error);
    // A connection of our own is named, so that CLIENT LIST tells which process holds what.
    const { client, owned } =
      options.client === undefined && typeof options.url === 'string' && options.url !== ''
        ? {
            client: createClient(options.url, timeoutMs, onError, {
              connectionName: `${prefix}:cmd`,
              // Opened by the first call, not by the constructor.
              lazyConnect: true,
            }),
            owned: true,
          }
        : resolveClient(
            { client: options.client, url: options.url, onError },
            timeoutMs,
            'redisTaskBackend',
          );
    const keyPrefix = client.isCluster
      ? (client as Cluster).options.keyPrefix
      : (client as Redis).options.keyPrefix;
    if (keyPrefix) {
      // ioredis adds keyPrefix to declared keys only, not to the keys the scripts build.
      throw new InvalidArgumentError(
        `redisTaskBackend: the client has keyPrefix=${describeValue(keyPrefix)}: use the backend's prefix option instead`,
        { argument: 'client', value: keyPrefix, expected: 'a client without keyPrefix' },
      );
    }
    this.client = client;
    this.owned = owned;
    this.#guardCalls = !owned && typeof redisOptionsOf(client).commandTimeout !== 'number';
  }

  /**
   * Runs one backend operation on the command connection: waits for the connection while it
   * reconnects (up to the command timeout), and retries once when the connection dropped under
   * the call. A call is built once, so a retry (or ioredis re-sending what a dropped connection
   * left unanswered) repeats it with the same request id: add, claim, finish, cancel and
   * retryDead answer a repeat from their memo, the other calls are idempotent.
   */
  async run<T>(
    operation: string,
    queue: string | undefined,
    fn: (client: RedisClient) => Promise<T>,
  ): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      if (this.closing !== undefined) {
        throw new TaskBackendError(`redis task backend: ${operation} after close()`, {
          backend: 'redis',
          operation,
          queue,
        });
      }
      try {
        if (this.client.status !== 'ready') await this.#connected();
        const pending = fn(this.client);
        return await (this.#guardCalls
          ? rejectAfter(pending, this.#timeoutMs, `Command timed out after ${this.#timeoutMs} ms`)
          : pending);
      } catch (error) {
        if (attempt === 0 && isConnectionError(error) && this.closing === undefined) {
          continue;
        }
        throw failure(operation, error, queue);
      }
    }
  }

  /** Waits for the command connection, opening it on first use (a lazy client is in `wait`). */
  async #connected(): Promise<void> {
    if (this.client.status === 'wait') {
      this.#connecting ??= this.client.connect().catch(() => undefined);
      await this.#connecting;
      this.#connecting = undefined;
    }
    await whenReady(this.client, this.#timeoutMs);
  }

  /** A further connection like the command one, with `overrides` (blocking, subscriber). */
  duplicate(overrides: Partial<RedisOptions>): RedisClient {
    if (this.owned) {
      return createClient(this.#url!, this.#timeoutMs, (error) => this.report(error), overrides);
    }
    let copy: RedisClient;
    if (this.client.isCluster) {
      const cluster = this.client as Cluster;
      copy = cluster.duplicate(undefined, {
        redisOptions: { ...cluster.options.redisOptions, ...overrides },
        enableOfflineQueue: overrides.enableOfflineQueue ?? cluster.options.enableOfflineQueue,
      });
    } else {
      copy = (this.client as Redis).duplicate(overrides);
    }
    copy.on('error', (error: Error) => this.report(error));
    return copy;
  }

  /** The name of a connection of this backend for `CLIENT LIST` (`<prefix>:<role>`). */
  connectionName(role: string): string {
    return `${this.#prefix}:${role}`;
  }

  /** Hands an error to the `onError` option. */
  report(error: Error): void {
    try {
      this.#onError?.(error);
    } catch {
      // Reporting must never throw into ioredis' event emitter or a worker loop.
    }
  }
}

function failure(operation: string, error: unknown, queue: string | undefined): Error {
  if (error instanceof EnterpriseError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new TaskBackendError(
    `redis task backend: ${operation} failed: ${message}`,
    { backend: 'redis', operation, ...(queue === undefined ? {} : { queue }) },
    error,
  );
}

function redisOptionsOf(client: RedisClient): Partial<RedisOptions> {
  return client.isCluster
    ? ((client as Cluster).options.redisOptions ?? {})
    : (client as Redis).options;
}

/** Disconnects at once (a blocked connection would answer QUIT only after its wait). */
export async function dropClient(client: RedisClient): Promise<void> {
  if (client.status === 'end') return;
  const ended = new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 1_000);
    timer.unref();
    client.once('end', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  client.disconnect();
  await ended;
}

const CONNECTION_ERROR =
  /Connection is closed|Stream isn't writeable|ECONNRESET|EPIPE|ECONNREFUSED|ETIMEDOUT|not connected|Command timed out|socket/i;

function isConnectionError(error: unknown): boolean {
  return error instanceof Error && CONNECTION_ERROR.test(error.message);
}

/** `error` as an Error, for `report`. */
export function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
