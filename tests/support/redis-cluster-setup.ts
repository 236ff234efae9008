import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

/**
 * Vitest global setup: when TEST_REDIS_CLUSTER_NODES is unset and `redis-server` and `redis-cli` are
 * on PATH, starts a throw-away three-master Redis Cluster on free ports (no persistence, in a temp
 * dir), sets TEST_REDIS_CLUSTER_NODES for the test workers and removes the cluster at the end.
 * A variable already set (as `.ci/run` does) is used as given; without Redis it stays unset, so the
 * Cluster suites say they are skipped (or fail under CI).
 */

const run = promisify(execFile);
const MASTERS = 3;

export default async function setup(): Promise<(() => Promise<void>) | undefined> {
  if (process.env.TEST_REDIS_CLUSTER_NODES) return undefined;
  if (!(await onPath('redis-server')) || !(await onPath('redis-cli'))) return undefined;
  const dir = await mkdtemp(join(tmpdir(), 'revcopy-redis-cluster-'));
  const nodes: { port: number; child: ChildProcess }[] = [];
  // A crash or Ctrl-C of the run must not leave servers behind.
  const killAll = () => {
    for (const node of nodes) node.child.kill('SIGKILL');
  };
  process.once('exit', killAll);
  const teardown = async () => {
    process.off('exit', killAll);
    await Promise.all(nodes.map((node) => stop(node.port, node.child)));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    // One client port and one cluster-bus port per node.
    const ports = await freePorts(MASTERS * 2);
    for (let i = 0; i < MASTERS; i++) {
      const port = ports[i]!;
      const child = spawn(
        'redis-server',
        [
          '--bind',
          '127.0.0.1',
          '--port',
          String(port),
          '--cluster-enabled',
          'yes',
          '--cluster-port',
          String(ports[MASTERS + i]!),
          '--cluster-config-file',
          join(dir, `nodes-${port}.conf`),
          '--dir',
          dir,
          '--save',
          '',
          '--appendonly',
          'no',
          '--logfile',
          join(dir, `${port}.log`),
        ],
        { stdio: 'ignore' },
      );
      nodes.push({ port, child });
    }
    for (const { port } of nodes) await until(() => cli(port, 'ping').then((r) => r === 'PONG'));
    const addresses = nodes.map(({ port }) => `127.0.0.1:${port}`);
    await run('redis-cli', [
      '--cluster',
      'create',
      ...addresses,
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ]);
    for (const { port } of nodes) {
      await until(() => cli(port, 'cluster', 'info').then((r) => r.includes('cluster_state:ok')));
    }
    // Workers start after global setup and inherit this process's environment.
    process.env.TEST_REDIS_CLUSTER_NODES = addresses.join(',');
    return teardown;
  } catch (error) {
    await teardown();
    process.stderr.write(
      `\n[redis-cluster-setup] could not start a test Redis Cluster (${(error as Error).message}); ` +
        'the Cluster suites will be skipped\n',
    );
    return undefined;
  }
}

async function onPath(command: string): Promise<boolean> {
  try {
    await run(command, ['--version'], { timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

async function cli(port: number, ...args: string[]): Promise<string> {
  try {
    const { stdout } = await run('redis-cli', ['-p', String(port), ...args], { timeout: 5_000 });
    return stdout.trim();
  } catch {
    return '';
  }
}

/** Polls `check` every 100 ms for up to 20 s. */
async function until(check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the cluster');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Ports free now, held together so none is handed out twice. */
async function freePorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const server = createServer();
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => resolve());
      });
      servers.push(server);
    }
    return servers.map((server) => (server.address() as { port: number }).port);
  } finally {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  }
}

/** Shuts a node down without saving; kills it if it has not exited within 5 s. */
async function stop(port: number, child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await cli(port, 'shutdown', 'nosave');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}
