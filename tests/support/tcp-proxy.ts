import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A loopback TCP proxy for fault injection: forwards every connection to `target`, and on request
 * loses the reply to one command: once a chunk the client sends contains `marker`, the next chunk
 * the server answers on that connection is dropped and both sockets are reset, as when a network
 * fails after the server did the work but before its answer arrived. The client reconnects through
 * the proxy as it would to the server.
 *
 * @example
 * ```ts
 * const proxy = await startTcpProxy(6379);
 * const client = new Redis(proxy.port);
 * proxy.loseReplyTo('EVALSHA');
 * await client.evalsha(...); // runs on Redis; its reply is lost, ioredis re-sends it
 * ```
 *
 * It can also stall (hold what clients send until `resume()`, as a server that stopped answering
 * without closing anything) and, closed, be started again on the same `listenPort` (the server
 * coming back where clients reconnect).
 */
export interface TcpProxy {
  readonly port: number;
  /** Loses the reply to the next command whose bytes contain `marker`; resolves once it did. */
  loseReplyTo(marker: string): Promise<void>;
  /** Replies lost so far. */
  readonly lost: number;
  /** Holds every byte clients send (connections stay open) until `resume()`. */
  stall(): void;
  /** Delivers what was held, in order, and forwards again. */
  resume(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(
  targetPort: number,
  targetHost = '127.0.0.1',
  listenPort = 0,
): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let armed: { marker: string; done: () => void } | undefined;
  let lost = 0;
  let stalled = false;
  const held: (() => void)[] = [];
  const server: Server = createServer((client) => {
    const upstream = connect(targetPort, targetHost);
    sockets.add(client);
    sockets.add(upstream);
    // Set when this connection sent the marked command: its next reply is the one to lose.
    let dropNext: (() => void) | undefined;
    const reset = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('data', (chunk: Buffer) => {
      if (armed !== undefined && chunk.includes(armed.marker)) {
        dropNext = armed.done;
        armed = undefined;
      }
      if (stalled) held.push(() => upstream.write(chunk));
      else upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (dropNext !== undefined) {
        const done = dropNext;
        dropNext = undefined;
        lost += 1;
        reset();
        done();
        return;
      }
      client.write(chunk);
    });
    for (const socket of [client, upstream]) {
      socket.on('error', reset);
      socket.on('close', () => {
        sockets.delete(socket);
        reset();
      });
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listenPort, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    port,
    get lost() {
      return lost;
    },
    loseReplyTo(marker) {
      return new Promise<void>((resolve) => {
        armed = { marker, done: resolve };
      });
    },
    stall() {
      stalled = true;
    },
    resume() {
      stalled = false;
      for (const write of held.splice(0)) write();
    },
    async close() {
      stalled = false;
      held.length = 0;
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
