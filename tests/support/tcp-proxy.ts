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
 */
export interface TcpProxy {
  readonly port: number;
  /** Loses the reply to the next command whose bytes contain `marker`; resolves once it did. */
  loseReplyTo(marker: string): Promise<void>;
  /** Replies lost so far. */
  readonly lost: number;
  close(): Promise<void>;
}

export async function startTcpProxy(
  targetPort: number,
  targetHost = '127.0.0.1',
): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let armed: { marker: string; done: () => void } | undefined;
  let lost = 0;
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
      upstream.write(chunk);
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
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
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
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
