import { rejectAfter } from '../core/timeout.js';
import {
  checkTimeout,
  quitClient,
  type RedisClient,
  resolveClient,
  whenReady,
} from '../redis/client.js';
import { checkPrefix } from '../redis/keys.js';
import { luaScript, runScript } from '../redis/scripts.js';
import type { AlertStore, AlertTransition, Silence } from './types.js';

type Ack = { by: string; at: string; comment?: string };

/**
 * Options of {@link RedisAlertStore}.
 *
 * @example
 * ```ts
 * const options: RedisAlertStoreOptions = { url: 'redis://redis:6379', prefix: 'shop:alerts' };
 * ```
 */
export interface RedisAlertStoreOptions {
  /** An ioredis client or Cluster; never closed by the store. Give either `client` or `url`. */
  client?: RedisClient;
  /** A Redis URL: the store opens a fail-fast connection and quits it on `close()`. */
  url?: string;
  /** Every key is `{prefix}:…`: one hash tag, so the store works on Redis Cluster. @defaultValue 'enterprise:alerts' */
  prefix?: string;
  /** Longest wait for Redis before a call rejects. @defaultValue 1000 */
  commandTimeoutMs?: number;
  /** Connection errors of the client the store created. */
  onError?: (error: Error) => void;
}

/** SET NX (with a TTL when given), then GET: the first caller's start wins and everyone reads it. */
const EPISODE = luaScript(`
if ARGV[2] == '' then
  redis.call('SET', KEYS[1], ARGV[1], 'NX')
else
  if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) == false then
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
  end
end
return redis.call('GET', KEYS[1])
`);

/** PEXPIRE on each episode that still exists (a resolved one must not come back). */
const TOUCH = luaScript(`
for i = 1, #KEYS do redis.call('PEXPIRE', KEYS[i], ARGV[1]) end
return #KEYS
`);

/** Capped history: the dedupe marker (when given), LPUSH and LTRIM as one step. */
const RECORD = luaScript(`
if ARGV[3] ~= '' then
  if redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[3]) == false then return 0 end
end
redis.call('LPUSH', KEYS[1], ARGV[1])
redis.call('LTRIM', KEYS[1], 0, tonumber(ARGV[2]) - 1)
return 1
`);

/**
 * The {@link AlertStore} shared by the instances of a deployment. Keys live under one Cluster hash
 * tag, `{prefix}`: `{prefix}:claim:<key>` (SET NX PX), `{prefix}:episode:<key>` (one script: SET
 * NX, then GET), `{prefix}:acks` and `{prefix}:silences` (hashes), `{prefix}:history` (a list
 * capped by LPUSH + LTRIM in one script). Every call waits at most `commandTimeoutMs`.
 *
 * @example
 * ```ts
 * const store = new RedisAlertStore({ url: process.env.REDIS_URL, prefix: 'shop:alerts' });
 * const alerts = new Alerts({ store });
 * ```
 */
export class RedisAlertStore implements AlertStore {
  readonly prefix: string;
  readonly #client: RedisClient;
  readonly #owned: boolean;
  readonly #timeoutMs: number;
  readonly #tag: string;
  #closing: Promise<void> | undefined;

  constructor(options: RedisAlertStoreOptions) {
    this.prefix = checkPrefix(options.prefix ?? 'enterprise:alerts');
    this.#timeoutMs = checkTimeout(options.commandTimeoutMs ?? 1_000, 'commandTimeoutMs');
    const { client, owned } = resolveClient(options, this.#timeoutMs, 'RedisAlertStore');
    this.#client = client;
    this.#owned = owned;
    // checkPrefix refuses braces, so the tag ends where it should.
    this.#tag = `{${this.prefix}}`;
  }

  claim(key: string, ttlMs: number): Promise<boolean> {
    return this.#run('claim', async (c) => {
      const reply = await c.set(
        this.#key('claim', key),
        '1',
        'PX',
        Math.max(1, Math.ceil(ttlMs)),
        'NX',
      );
      return reply === 'OK';
    });
  }

  episode(key: string, at: number, ttlMs?: number): Promise<number> {
    return this.#run('episode', async (c) => {
      const ttl = ttlMs === undefined ? '' : String(Math.max(1, Math.ceil(ttlMs)));
      const reply = await runScript(c, EPISODE, [this.#key('episode', key)], [String(at), ttl]);
      const start = Number(reply);
      return Number.isFinite(start) ? start : at;
    });
  }

  touchEpisodes(keys: readonly string[], ttlMs: number): Promise<void> {
    if (keys.length === 0) return Promise.resolve();
    return this.#run('touchEpisodes', async (c) => {
      const names = keys.map((k) => this.#key('episode', k));
      await runScript(c, TOUCH, names, [Math.max(1, Math.ceil(ttlMs))]);
    });
  }

  endEpisode(key: string): Promise<void> {
    return this.#run('endEpisode', async (c) => {
      await c.del(this.#key('episode', key));
    });
  }

  acknowledge(fingerprint: string, ack: Ack): Promise<void> {
    return this.#run('acknowledge', async (c) => {
      await c.hset(this.#key('acks'), fingerprint, JSON.stringify(ack));
    });
  }

  acknowledgements(): Promise<ReadonlyMap<string, Ack>> {
    return this.#run('acknowledgements', async (c) => {
      const all = await c.hgetall(this.#key('acks'));
      const acks = new Map<string, Ack>();
      for (const [fingerprint, json] of Object.entries(all)) {
        const ack = parse<Ack>(json);
        if (ack !== undefined) acks.set(fingerprint, ack);
      }
      return acks;
    });
  }

  clearAcknowledgement(fingerprint: string): Promise<void> {
    return this.#run('clearAcknowledgement', async (c) => {
      await c.hdel(this.#key('acks'), fingerprint);
    });
  }

  putSilence(silence: Silence): Promise<void> {
    return this.#run('putSilence', async (c) => {
      await c.hset(this.#key('silences'), silence.id, JSON.stringify(silence));
    });
  }

  deleteSilence(id: string): Promise<boolean> {
    return this.#run('deleteSilence', async (c) => (await c.hdel(this.#key('silences'), id)) === 1);
  }

  silences(): Promise<readonly Silence[]> {
    return this.#run('silences', async (c) => {
      const values = await c.hvals(this.#key('silences'));
      return values.map((json) => parse<Silence>(json)).filter((s) => s !== undefined);
    });
  }

  record(transition: AlertTransition, limit: number, dedupeMs?: number): Promise<void> {
    return this.#run('record', async (c) => {
      const dedupe = dedupeMs !== undefined && dedupeMs > 0 ? String(Math.ceil(dedupeMs)) : '';
      const marker = this.#key(
        'seen',
        `${transition.fingerprint}:${transition.from}:${transition.to}`,
      );
      await runScript(
        c,
        RECORD,
        [this.#key('history'), marker],
        [JSON.stringify(transition), Math.max(1, Math.floor(limit)), dedupe],
      );
    });
  }

  history(limit: number): Promise<readonly AlertTransition[]> {
    if (limit <= 0) return Promise.resolve([]);
    return this.#run('history', async (c) => {
      const items = await c.lrange(this.#key('history'), 0, Math.floor(limit) - 1);
      return items.map((json) => parse<AlertTransition>(json)).filter((t) => t !== undefined);
    });
  }

  /** Quits the client the store created (a given client stays open). Idempotent. */
  async close(): Promise<void> {
    this.#closing ??= this.#owned ? quitClient(this.#client) : Promise.resolve();
    await this.#closing;
  }

  #key(kind: string, name?: string): string {
    return name === undefined ? `${this.#tag}:${kind}` : `${this.#tag}:${kind}:${name}`;
  }

  /** Waits for the connection and runs `body`, the whole bounded by the command timeout. */
  async #run<T>(operation: string, body: (client: RedisClient) => Promise<T>): Promise<T> {
    if (this.#closing !== undefined) throw new Error(`alert store: ${operation} after close()`);
    const started = Date.now();
    await whenReady(this.#client, this.#timeoutMs);
    const left = Math.max(1, this.#timeoutMs - (Date.now() - started));
    return rejectAfter(
      body(this.#client),
      left,
      `alert store: no answer from Redis to ${operation} within ${this.#timeoutMs} ms`,
    );
  }
}

function parse<T>(json: string): T | undefined {
  try {
    return JSON.parse(json) as T;
  } catch {
    return undefined;
  }
}
