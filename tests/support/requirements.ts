import { execFileSync } from 'node:child_process';

/**
 * Integration suites declare what they need from the machine (a service, a tool). On a developer's
 * machine without it the suite is skipped with a message saying what is missing and how to get it;
 * under CI (`CI=true`) a missing requirement fails the run instead, so CI can never pass by skipping.
 */
export interface Requirement {
  /** What is needed, e.g. `promtool` or `Redis at 127.0.0.1:6379`. */
  name: string;
  /** Returns undefined when available, or why it is not. */
  check: () => string | undefined;
  /** How to get it, printed with the skip message. */
  hint: string;
}

const isCI = () => process.env.CI === 'true' || process.env.CI === '1';

/**
 * Checks `requirement`; returns true when the suite can run. When it cannot: under CI throws, else
 * prints one line to stderr and returns false (pass the result to `describe.runIf`).
 *
 * @example
 * ```ts
 * describe.runIf(requires(promtool))('promtool check metrics', () => { ... });
 * ```
 */
export function requires(requirement: Requirement): boolean {
  const missing = requirement.check();
  if (missing === undefined) return true;
  const message = `${requirement.name} is not available (${missing}); ${requirement.hint}`;
  if (isCI())
    throw new Error(`CI=true and a required integration dependency is missing: ${message}`);
  process.stderr.write(`\n[skipped integration suite] ${message}\n`);
  return false;
}

/** A command-line tool on PATH. */
export function tool(command: string, hint: string, versionArgs = ['--version']): Requirement {
  return {
    name: command,
    hint,
    check: () => {
      try {
        execFileSync(command, versionArgs, { stdio: 'ignore', timeout: 10_000 });
        return undefined;
      } catch (error) {
        return (error as Error).message.split('\n')[0];
      }
    },
  };
}

/** Prometheus' checker, from Debian's `prometheus` package. */
export const promtool = tool('promtool', 'install it with `apt-get install prometheus`');

/** A TCP service answering on `host:port` (checked by connecting, within one second). */
export function tcpService(name: string, host: string, port: number, hint: string): Requirement {
  const probe = `
    const socket = require('node:net').connect(${port}, ${JSON.stringify(host)});
    socket.setTimeout(1000);
    socket.on('connect', () => { socket.destroy(); process.exit(0); });
    socket.on('timeout', () => { console.error('timed out'); process.exit(1); });
    socket.on('error', (e) => { console.error(e.code || e.message); process.exit(1); });`;
  return {
    name,
    hint,
    check: () => {
      try {
        execFileSync(process.execPath, ['-e', probe], {
          stdio: ['ignore', 'ignore', 'pipe'],
          timeout: 5_000,
        });
        return undefined;
      } catch (error) {
        const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
        return stderr || (error as Error).message.split('\n')[0];
      }
    },
  };
}

/** The Redis the integration suites use: REDIS_URL's host and port, else 127.0.0.1:6379. */
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0';
export const redis = (() => {
  const url = new URL(REDIS_URL);
  return tcpService(
    `Redis at ${url.host}`,
    url.hostname,
    Number(url.port || 6379),
    'start one with `redis-server --port 6379` or set TEST_REDIS_URL',
  );
})();

/** The PostgreSQL the integration suites use (trust auth, database `test`). */
export const POSTGRES_URL =
  process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const postgres = (() => {
  const url = new URL(POSTGRES_URL);
  return tcpService(
    `PostgreSQL at ${url.host}`,
    url.hostname,
    Number(url.port || 5432),
    'start one (database `test`) or set TEST_POSTGRES_URL',
  );
})();

/**
 * A suite that needs something set up on purpose (a Redis Cluster, say), named by `variable`.
 * Skipped with a message when the variable is unset; under CI, which sets it up, a failure.
 */
export function optIn(name: string, variable: string, hint: string): boolean {
  if (process.env[variable]) return true;
  return requires({ name, hint, check: () => `${variable} is not set` });
}

/** The Redis Cluster of the Cluster suites (redis-cluster-setup.ts starts one when it can). */
export const redisCluster = (): boolean =>
  optIn(
    'a Redis Cluster',
    'TEST_REDIS_CLUSTER_NODES',
    'install redis-server (the test run then starts a Cluster itself) or set TEST_REDIS_CLUSTER_NODES=host:port,host:port',
  );
