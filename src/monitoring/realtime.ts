import { MonitoringRequestError } from './errors.js';
import type { RealtimeFeed } from './realtime-feed.js';
import type { MonitoringSnapshot } from './snapshot.js';

/** Settings of the real-time stream (`GET /performance/realtime`). */
export interface RealtimeSettings {
  /** A snapshot every this many milliseconds. */
  intervalMs: number;
  /** A `: heartbeat` comment every this many milliseconds, so proxies keep the connection open. */
  heartbeatMs: number;
  /** Streams open at once; more are refused with 503 and `Retry-After`. */
  maxStreams: number;
  /** Computes one snapshot (without its `seq`, which is per stream). */
  build: () => Promise<Omit<MonitoringSnapshot, 'seq'>>;
  /** Reports a snapshot that could not be built (the stream goes on). */
  onError: (error: unknown) => void;
  /** Events sent between snapshots as they happen (alert transitions, security events). */
  feed?: RealtimeFeed;
}

/** One connected client. */
interface Subscriber {
  controller: ReadableStreamDefaultController<Uint8Array>;
  /** The `id` of the next event sent to this client. */
  nextId: number;
  detach: () => void;
}

const encoder = new TextEncoder();
/** A client more than this many bytes behind skips snapshots until it catches up. */
const MAX_BUFFERED_BYTES = 256 * 1024;
const SEQ_PATTERN = /^\d{1,15}$/;

/**
 * @internal The Server-Sent Events hub of one router. One timer builds one snapshot per interval
 * and every client receives it (serialized once); a second timer sends heartbeat comments. Both
 * timers run only while at least one client is connected, and every client is detached, and its
 * stream closed, when its request is aborted or its stream cancelled.
 */
export class RealtimeHub {
  readonly #settings: RealtimeSettings;
  readonly #subscribers = new Set<Subscriber>();
  #tickTimer: NodeJS.Timeout | undefined;
  #heartbeatTimer: NodeJS.Timeout | undefined;
  /** The last snapshot, serialized without `seq` (its leading `{` removed). */
  #latest: string | undefined;
  #building = false;
  #closed = false;

  constructor(settings: RealtimeSettings) {
    this.#settings = settings;
  }

  /** Connected clients. */
  get streams(): number {
    return this.#subscribers.size;
  }

  /** Timers running (0 without clients, 2 with). */
  get timers(): number {
    return (this.#tickTimer === undefined ? 0 : 1) + (this.#heartbeatTimer === undefined ? 0 : 1);
  }

  /**
   * The streaming response for `request`. Throws a 503 {@link MonitoringRequestError} when the cap
   * is reached or the router is closed.
   */
  open(request: Request): Response {
    if (this.#closed) {
      throw new MonitoringRequestError(503, 'E_UNAVAILABLE', 'the monitoring router is closed');
    }
    if (this.#subscribers.size >= this.#settings.maxStreams) {
      const retryAfter = String(Math.max(1, Math.ceil(this.#settings.intervalMs / 1000) * 5));
      throw new MonitoringRequestError(
        503,
        'E_TOO_MANY_STREAMS',
        `${this.#settings.maxStreams} real-time streams are open already; retry later`,
        { 'retry-after': retryAfter },
      );
    }
    const lastEventId = request.headers.get('last-event-id')?.trim();
    const firstId =
      lastEventId !== undefined && SEQ_PATTERN.test(lastEventId) ? Number(lastEventId) + 1 : 1;
    const signal = request.signal;
    let subscriber: Subscriber | undefined;
    const stream = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          const onAbort = () => this.#drop(subscriber, true);
          subscriber = {
            controller,
            nextId: firstId,
            detach: () => signal.removeEventListener('abort', onAbort),
          };
          this.#subscribers.add(subscriber);
          signal.addEventListener('abort', onAbort, { once: true });
          // `retry:` tells EventSource how long to wait before reconnecting.
          controller.enqueue(
            encoder.encode(`retry: ${Math.max(1000, this.#settings.intervalMs)}\n\n`),
          );
          if (this.#latest !== undefined) this.#send(subscriber, this.#latest);
          this.#ensureTimers();
          this.#attachFeed();
          if (this.#latest === undefined) void this.#tick();
          if (signal.aborted) onAbort();
        },
        cancel: () => this.#drop(subscriber, false),
      },
      { highWaterMark: MAX_BUFFERED_BYTES, size: (chunk) => chunk.byteLength },
    );
    return new Response(stream, {
      status: 200,
      headers: {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      },
    });
  }

  /** Ends every stream and stops the timers; later `open()` calls are refused. */
  close(): void {
    this.#closed = true;
    for (const subscriber of [...this.#subscribers]) this.#drop(subscriber, true);
    this.#stopTimers();
  }

  #ensureTimers(): void {
    if (this.#tickTimer === undefined) {
      this.#tickTimer = setInterval(() => void this.#tick(), this.#settings.intervalMs);
      this.#tickTimer.unref();
    }
    if (this.#heartbeatTimer === undefined) {
      this.#heartbeatTimer = setInterval(() => this.#heartbeat(), this.#settings.heartbeatMs);
      this.#heartbeatTimer.unref();
    }
  }

  /**
   * Sends one event (not a snapshot) to every client, serialized once. It carries no `id`: events
   * are not replayed on reconnection, and the snapshot numbering stays that of the snapshots. A
   * client that is behind skips it, as it skips snapshots.
   */
  publish(event: string, data: unknown): void {
    if (this.#subscribers.size === 0) return;
    let text: string;
    try {
      text = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    } catch (error) {
      this.#settings.onError(error);
      return;
    }
    for (const subscriber of this.#subscribers) {
      if ((subscriber.controller.desiredSize ?? 0) > 0) this.#enqueue(subscriber, text);
    }
  }

  #attachFeed(): void {
    try {
      this.#settings.feed?.attach(this.#publish);
    } catch (error) {
      this.#settings.onError(error);
    }
  }

  readonly #publish = (event: string, data: unknown): void => this.publish(event, data);

  #stopTimers(): void {
    this.#settings.feed?.detach();
    clearInterval(this.#tickTimer);
    clearInterval(this.#heartbeatTimer);
    this.#tickTimer = undefined;
    this.#heartbeatTimer = undefined;
    // Without clients the last snapshot goes stale: the next client gets a fresh one.
    this.#latest = undefined;
  }

  /** Detaches a client; `close` also ends its stream (not needed when the stream was cancelled). */
  #drop(subscriber: Subscriber | undefined, close: boolean): void {
    if (subscriber === undefined || !this.#subscribers.delete(subscriber)) return;
    subscriber.detach();
    if (close) {
      try {
        subscriber.controller.close();
      } catch {
        // Already closed or errored by the consumer.
      }
    }
    if (this.#subscribers.size === 0) this.#stopTimers();
  }

  /** Builds one snapshot and sends it to every client; a tick while one is building is skipped. */
  async #tick(): Promise<void> {
    if (this.#building || this.#subscribers.size === 0) return;
    // A module built since the first client connected starts feeding its events now.
    this.#attachFeed();
    this.#building = true;
    try {
      const snapshot = await this.#settings.build();
      if (this.#subscribers.size === 0) return;
      const body = JSON.stringify(snapshot).slice(1);
      this.#latest = body;
      for (const subscriber of this.#subscribers) this.#send(subscriber, body);
    } catch (error) {
      this.#settings.onError(error);
    } finally {
      this.#building = false;
    }
  }

  #send(subscriber: Subscriber, body: string): void {
    const { controller } = subscriber;
    // A client that does not read falls behind: it skips snapshots (each one replaces the previous)
    // instead of the server buffering without bound.
    if ((controller.desiredSize ?? 0) <= 0) return;
    const id = subscriber.nextId++;
    const data = body === '}' ? `{"seq":${id}}` : `{"seq":${id},${body}`;
    this.#enqueue(subscriber, `id: ${id}\nevent: snapshot\ndata: ${data}\n\n`);
  }

  #heartbeat(): void {
    const chunk = `: heartbeat ${new Date().toISOString()}\n\n`;
    for (const subscriber of this.#subscribers) {
      if ((subscriber.controller.desiredSize ?? 0) > 0) this.#enqueue(subscriber, chunk);
    }
  }

  #enqueue(subscriber: Subscriber, text: string): void {
    try {
      subscriber.controller.enqueue(encoder.encode(text));
    } catch {
      this.#drop(subscriber, false);
    }
  }
}
