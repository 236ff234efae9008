import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import express from 'express';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { monitoringRouter } from '../../src/adapters/express.js';
import { createMonitoringListener } from '../../src/adapters/node.js';
import type { Enterprise } from '../../src/index.js';
import { closeServer, listen } from './helpers.js';
import { TOKEN, testEnterprise } from './suite.js';

const AUTH = { authorization: `Bearer ${TOKEN}` };
const instances: Enterprise[] = [];
afterEach(async () => {
  for (const enterprise of instances.splice(0)) await enterprise.shutdown();
});
function own(): Enterprise {
  const { enterprise } = testEnterprise();
  instances.push(enterprise);
  return enterprise;
}

describe('shutdownOnSignals', () => {
  it('removes its signal listeners on close: no leak however many mounts are created', async () => {
    const before = { term: process.listenerCount('SIGTERM'), int: process.listenerCount('SIGINT') };
    // Created and closed in rounds, as a test suite or a hot-reloading host does: 32 in all.
    for (let round = 0; round < 4; round++) {
      const listeners = Array.from({ length: 8 }, () =>
        createMonitoringListener({ enterprise: own(), auth: TOKEN, shutdownOnSignals: true }),
      );
      expect(process.listenerCount('SIGTERM')).toBe(before.term + 8);
      await Promise.all(listeners.map((listener) => listener.close()));
      expect(process.listenerCount('SIGTERM')).toBe(before.term);
    }
    expect(process.listenerCount('SIGINT')).toBe(before.int);
  });

  it('shuts every mounted instance down on the signal and removes its listeners', async () => {
    // Another listener stands for the host's own: with it, the signal is not raised again.
    const host = vi.fn();
    process.on('SIGTERM', host);
    const before = process.listenerCount('SIGTERM');
    try {
      const a = own();
      const b = own();
      createMonitoringListener({ enterprise: a, auth: TOKEN, shutdownOnSignals: ['SIGTERM'] });
      createMonitoringListener({ enterprise: b, auth: TOKEN, shutdownOnSignals: ['SIGTERM'] });
      process.emit('SIGTERM', 'SIGTERM');
      await vi.waitFor(
        () => {
          expect(a.state).toBe('stopped');
          expect(b.state).toBe('stopped');
        },
        { timeout: 3000, interval: 10 },
      );
      expect(host).toHaveBeenCalledTimes(1);
      expect(process.listenerCount('SIGTERM')).toBe(before);
    } finally {
      process.off('SIGTERM', host);
    }
  });

  it('raises the signal again only once every shutdown it started has finished', async () => {
    const result = await new Promise<{ signal: string | null; stdout: string }>((resolve) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', 'tests/adapters/fixtures/signals-child.ts'],
        { timeout: 30_000 },
        (error, stdout) => {
          resolve({ signal: (error as { signal?: string } | null)?.signal ?? null, stdout });
        },
      );
    });
    expect(result.stdout).toContain('fast done');
    expect(result.stdout).toContain('slow done');
    expect(result.stdout).not.toContain('not killed');
    expect(result.signal).toBe('SIGTERM');
  });
});

describe('two monitoring mounts on one server', () => {
  it('both end their event streams when the server closes, and both instances shut down', async () => {
    const first = own();
    const second = own();
    const app = express();
    app.use('/one', monitoringRouter({ enterprise: first, auth: TOKEN }));
    app.use('/two', monitoringRouter({ enterprise: second, auth: TOKEN }));
    const server = createServer(app);
    const url = await listen(server);
    const streams: Response[] = [];
    try {
      for (const prefix of ['/one', '/two']) {
        const response = await fetch(`${url}${prefix}/performance/realtime`, { headers: AUTH });
        expect(response.status).toBe(200);
        streams.push(response);
      }
      // server.close() alone (no closeAllConnections): the open streams must not hold it.
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('server.close() hung')), 5000);
        server.close(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      await vi.waitFor(
        () => {
          expect(first.state).toBe('stopped');
          expect(second.state).toBe('stopped');
        },
        { timeout: 3000, interval: 10 },
      );
    } finally {
      for (const stream of streams) await stream.body?.cancel().catch(() => undefined);
      if (server.listening) await closeServer(server);
    }
  });
});
