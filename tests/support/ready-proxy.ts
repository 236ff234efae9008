import { createServer, type IncomingMessage, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A loopback HTTP load balancer as a typical one behaves: it polls each upstream's readiness path
 * every `pollMs` (a poll unanswered after 20 intervals counts as not ready) and sends requests, round-robin, only to upstreams whose last poll answered 200;
 * a request whose connection is refused is retried once on the next ready upstream. Each request
 * opens its own upstream connection (no pooled keep-alive sockets to go stale under it).
 *
 * @example
 * ```ts
 * const proxy = await startReadyProxy({ upstreams: [4001, 4002], readyPath: '/monitor/health/ready' });
 * await fetch(`http://127.0.0.1:${proxy.port}/work`);
 * ```
 */
export interface ReadyProxy {
  readonly port: number;
  /** The upstream ports whose last poll answered 200. */
  ready(): number[];
  /** Requests answered with 502 because no upstream was ready or both attempts failed. */
  readonly failures: string[];
  /** Requests that were retried after a refused connection. */
  readonly retries: number;
  /** Each change of an upstream's readiness: time, port, what its poll said. */
  readonly transitions: string[];
  close(): Promise<void>;
}

export interface ReadyProxyOptions {
  upstreams: readonly number[];
  readyPath: string;
  /** @defaultValue 100 */
  pollMs?: number;
}

/** One readiness poll: 200 or not, and what it said (status and body, or the error). */
function poll(port: number, path: string, timeoutMs: number): Promise<[boolean, string]> {
  return new Promise((resolve) => {
    const req = request(
      { host: '127.0.0.1', port, path, agent: false, timeout: timeoutMs },
      (res) => {
        let body = '';
        res.on('data', (chunk) => {
          body += String(chunk);
        });
        res.on('end', () => resolve([res.statusCode === 200, `${res.statusCode} ${body}`]));
        res.on('error', (error) => resolve([false, error.message]));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer in ${timeoutMs} ms`)));
    req.on('error', (error) => resolve([false, error.message]));
    req.end();
  });
}

export async function startReadyProxy(options: ReadyProxyOptions): Promise<ReadyProxy> {
  const pollMs = options.pollMs ?? 100;
  const readiness = new Map<number, boolean>(options.upstreams.map((port) => [port, false]));
  const failures: string[] = [];
  const transitions: string[] = [];
  let retries = 0;
  let next = 0;
  let closed = false;

  // Each upstream is polled on its own, every pollMs from the start of the previous poll (or at
  // once when a poll took longer): a slow instance never delays the view of the other one.
  const pollOne = async (port: number) => {
    while (!closed) {
      const started = Date.now();
      const [ready, said] = await poll(port, options.readyPath, pollMs * 20);
      if (readiness.get(port) !== ready) {
        transitions.push(`${new Date().toISOString()} ${port} ${ready ? 'ready' : said}`);
      }
      readiness.set(port, ready);
      await new Promise((resolve) =>
        setTimeout(resolve, Math.max(0, pollMs - (Date.now() - started))),
      );
    }
  };
  const polling = Promise.all(options.upstreams.map(pollOne));

  const pick = (exclude?: number): number | undefined => {
    const ready = options.upstreams.filter((port) => readiness.get(port) && port !== exclude);
    if (ready.length === 0) return undefined;
    next = (next + 1) % ready.length;
    return ready[next];
  };

  const forward = (port: number, incoming: IncomingMessage, body: Buffer) =>
    new Promise<IncomingMessage>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          method: incoming.method,
          path: incoming.url,
          headers: { ...incoming.headers, connection: 'close' },
          agent: false,
        },
        resolve,
      );
      req.on('error', reject);
      req.end(body);
    });

  const server: Server = createServer((incoming, outgoing) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', async () => {
      const body = Buffer.concat(chunks);
      const fail = (why: string) => {
        failures.push(`${incoming.method} ${incoming.url}: ${why}`);
        outgoing.writeHead(502).end(why);
      };
      const first = pick();
      if (first === undefined) return fail('no upstream ready');
      let upstream: IncomingMessage;
      try {
        upstream = await forward(first, incoming, body);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ECONNREFUSED') {
          return fail(`upstream ${first}: ${(error as Error).message}`);
        }
        retries += 1;
        const second = pick(first);
        if (second === undefined) return fail(`upstream ${first} refused; no other ready`);
        try {
          upstream = await forward(second, incoming, body);
        } catch (again) {
          return fail(`retry on ${second}: ${(again as Error).message}`);
        }
      }
      outgoing.writeHead(upstream.statusCode ?? 502, upstream.headers);
      upstream.pipe(outgoing);
      upstream.on('error', () => outgoing.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

  return {
    port: (server.address() as AddressInfo).port,
    ready: () => options.upstreams.filter((port) => readiness.get(port)),
    failures,
    transitions,
    get retries() {
      return retries;
    },
    async close() {
      closed = true;
      await polling;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
