// The graceful shutdown of one instance: readiness fails at once, the host's server keeps serving
// through the readiness delay, then stops accepting while its requests in flight finish; the
// deadline or a second signal cuts it; running tasks are handed back before the deadline.
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { createMonitoringListener } from '../../src/adapters/node.js';
import { ConfigError, createEnterprise, type Enterprise } from '../../src/index.js';
import { createMonitoringRouter } from '../../src/monitoring/router.js';
import { REDIS_URL, redis, requires } from '../support/requirements.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function instance(shutdown: Parameters<typeof createEnterprise>[0] = {}): Enterprise {
  const enterprise = createEnterprise({
    logLevel: 'silent',
    env: {},
    performance: { systemMetrics: false },
    alerts: false,
    ...shutdown,
  });
  cleanups.push(() => enterprise.shutdown());
  return enterprise;
}

/** A server whose `/slow` answers after `slowMs`, and `/hang` never. */
async function serve(slowMs: number): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    if (req.url === '/slow') setTimeout(() => res.end('slow done'), slowMs);
    else if (req.url === '/hang') res.write('partial');
    else res.end('quick');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => {
    server.closeAllConnections();
    server.close();
  });
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** The error code of a new TCP connection to `url`'s port, or 'connected'. */
function connectError(url: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(Number(new URL(url).port), '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
  });
}

const ready = async (enterprise: Enterprise) =>
  (await createMonitoringRouter({ enterprise }).fetch(new Request('http://x/health/ready'))).status;

describe('graceful shutdown options', () => {
  it.each([
    [{ signals: ['SIGFOO'] }, 'shutdown.signals'],
    [{ signals: 'SIGTERM' }, 'shutdown.signals'],
    [{ readinessDelay: 'soon' }, 'shutdown.readinessDelay'],
    [{ deadline: -1 }, 'shutdown.deadline'],
    [{ readinessDelay: '10s', deadline: '5s' }, 'shutdown.deadline'],
    [{ exit: 'yes' }, 'shutdown.exit'],
  ])('rejects %j naming %s', (shutdown, field) => {
    let error: unknown;
    try {
      createEnterprise({ env: {}, shutdown: shutdown as never });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).code).toBe('E_CONFIG_INVALID');
    expect((error as ConfigError).context.source).toBe(field);
    expect((error as Error).message).toContain(field);
  });

  it('rejects a target that is neither a server nor a function', () => {
    expect(() => instance().onDrain({} as never)).toThrow(/expected a Node server or a function/);
  });
});

describe('enterprise.drain()', () => {
  it('fails readiness at once, serves through the delay, then lets requests in flight finish', async () => {
    const enterprise = instance({ shutdown: { readinessDelay: '400ms', deadline: '10s' } });
    await enterprise.start();
    const { server, url } = await serve(600);
    enterprise.onDrain(server);
    expect(await ready(enterprise)).toBe(200);

    const slow = fetch(`${url}/slow`).then(
      async (r) => [r.status, await r.text()],
      (error: unknown) => ['failed', String(error)],
    );
    await sleep(50);
    const draining = enterprise.drain();
    expect(enterprise.draining).toBe(true);
    expect(await ready(enterprise)).toBe(503);
    // Still accepting during the readiness delay: the balancer has not noticed yet.
    const during = await fetch(`${url}/quick`);
    expect(during.status).toBe(200);
    expect(during.headers.get('connection')).toBe('close');
    expect(await during.text()).toBe('quick');
    await sleep(500);
    // After the delay: no new connection, but the request in flight finishes.
    expect(server.listening).toBe(false);
    expect(await connectError(url)).toBe('ECONNREFUSED');
    expect(await slow).toEqual([200, 'slow done']);
    const report = await draining;
    expect(report).toMatchObject({ outcome: 'clean', exitCode: 0 });
    expect(report.durationMs).toBeGreaterThanOrEqual(400);
    expect(enterprise.state).toBe('stopped');
    expect(server.listening).toBe(false);
    expect(await enterprise.drain()).toBe(report);
  });

  it('cuts what is still open at the deadline', async () => {
    const enterprise = instance({ shutdown: { readinessDelay: 0, deadline: '700ms' } });
    await enterprise.start();
    const { server, url } = await serve(0);
    enterprise.onDrain(server);
    const hung = fetch(`${url}/hang`).then(
      (r) =>
        r.text().then(
          () => 'ended',
          () => 'cut',
        ),
      () => 'cut',
    );
    await sleep(50);
    const started = Date.now();
    const report = await enterprise.drain();
    expect(report).toMatchObject({ outcome: 'deadline', exitCode: 1 });
    expect(Date.now() - started).toBeLessThan(5_000);
    // The connection was closed: the response ends (cut short) instead of hanging.
    expect(await Promise.race([hung, sleep(2_000).then(() => 'still open')])).not.toBe(
      'still open',
    );
    expect(server.listening).toBe(false);
  });

  it('runs hooks after the readiness delay and logs a failing one without stopping', async () => {
    const enterprise = instance({ shutdown: { readinessDelay: '200ms', deadline: '5s' } });
    await enterprise.start();
    const calls: number[] = [];
    const start = Date.now();
    enterprise.onDrain(({ deadline }) => {
      calls.push(Date.now() - start);
      expect(deadline).toBeGreaterThan(Date.now());
    });
    enterprise.onDrain(() => {
      throw new Error('hook failed');
    });
    const report = await enterprise.drain();
    expect(report.outcome).toBe('clean');
    expect(calls).toHaveLength(1);
    expect(calls[0]).toBeGreaterThanOrEqual(190);
  });

  it('closes the server the Node adapter serves from', async () => {
    const enterprise = instance({ shutdown: { readinessDelay: 0, deadline: '5s' } });
    const listener = createMonitoringListener({
      enterprise,
      prefix: '/monitor',
      instrument: false,
    });
    const server = createServer(listener);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => server.close());
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    expect((await fetch(`${url}/monitor/health/live`)).status).toBe(200);
    expect((await enterprise.drain()).outcome).toBe('clean');
    expect(server.listening).toBe(false);
  });
});

describe('signals', () => {
  it('the first signal drains and exits 0; listeners are removed after', async () => {
    const codes: number[] = [];
    const enterprise = instance({
      shutdown: {
        signals: ['SIGUSR2'],
        readinessDelay: '100ms',
        deadline: '5s',
        exit: (code) => codes.push(code),
      },
    });
    const before = process.listenerCount('SIGUSR2');
    await enterprise.start();
    expect(process.listenerCount('SIGUSR2')).toBe(before + 1);
    process.emit('SIGUSR2', 'SIGUSR2');
    expect(enterprise.draining).toBe(true);
    const deadline = Date.now() + 5_000;
    while (codes.length === 0 && Date.now() < deadline) await sleep(20);
    expect(codes).toEqual([0]);
    expect(enterprise.state).toBe('stopped');
    expect(process.listenerCount('SIGUSR2')).toBe(before);
  });

  it('a second signal cuts the shutdown short and exits 1', async () => {
    const codes: number[] = [];
    const enterprise = instance({
      shutdown: { readinessDelay: '20s', deadline: '30s', exit: (code) => codes.push(code) },
    });
    await enterprise.start();
    const remove = enterprise.handleSignals(['SIGUSR2']);
    cleanups.push(remove);
    process.emit('SIGUSR2', 'SIGUSR2');
    await sleep(50);
    expect(codes).toEqual([]);
    process.emit('SIGUSR2', 'SIGUSR2');
    expect(await enterprise.drain()).toMatchObject({ outcome: 'forced', exitCode: 1 });
    await sleep(20);
    expect(codes).toEqual([1]);
  });

  it('handleSignals rejects an unknown signal', () => {
    expect(() => instance().handleSignals(['SIGKILL' as never])).toThrow(ConfigError);
  });
});

describe.runIf(requires(redis))('tasks during a graceful shutdown (Redis)', () => {
  it('hands a task still running at the deadline back to the queue', async () => {
    const queue = `drain-${randomUUID().slice(0, 8)}`;
    const options = {
      env: { REDIS_URL, TASK_QUEUE_NAME: queue },
      tasks: { shutdownTimeout: '60s' },
      shutdown: { readinessDelay: 0, deadline: '3s' },
    } as const;
    const worker = instance(options);
    let started = false;
    worker.tasks.register('long', async (_payload: unknown, { signal }) => {
      started = true;
      await new Promise((resolve) => signal.addEventListener('abort', resolve));
    });
    await worker.start();
    const id = await worker.tasks.submit('long', {});
    const until = Date.now() + 10_000;
    while (!started && Date.now() < until) await sleep(20);
    expect(started).toBe(true);
    const begun = Date.now();
    const report = await worker.drain();
    // Handed back before the deadline, though the tasks' own shutdown timeout is a minute.
    expect(report.outcome).toBe('clean');
    expect(Date.now() - begun).toBeLessThan(3_000);
    const observer = instance({ env: { REDIS_URL, TASK_QUEUE_NAME: queue } });
    expect((await observer.tasks.get(id))?.state).toBe('waiting');
    await observer.tasks.cancel(id).catch(() => undefined);
  });
});
