// A fixture run in a child process and driven by lines: commands on its stdin, answers on its
// stdout. The tests of several processes in one deployment (alerts, rate limits, security) use it.
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

/** A running fixture; `name` appears in the errors of its calls. */
export interface LineChild {
  process: ChildProcess;
  name: string;
  send(command: string): void;
  /**
   * Takes the first line (already printed or to come) that starts with `match`, or that `match`
   * accepts, so the next call waits for another; rejects when the child exits first or after
   * `timeoutMs`, with the end of its stderr.
   */
  line(match: string | ((line: string) => boolean), timeoutMs?: number): Promise<string>;
  /** Kills the child at once (SIGKILL), if it still runs. */
  kill(): void;
  /** Asks the child to `stop` on its stdin, and kills it if it has not exited 3 s later. */
  stop(): Promise<void>;
}

/**
 * Starts `fixture` (TypeScript, through tsx) with `env` added to this process's environment.
 *
 * @example
 * ```ts
 * const child = startLineChild(FIXTURE, { REDIS_URL, PREFIX: prefix });
 * await child.line('ready');
 * child.send('go');
 * ```
 */
export function startLineChild(
  fixture: string,
  env: Record<string, string>,
  options: { name?: string; timeoutMs?: number } = {},
): LineChild {
  const name = options.name ?? 'child';
  const child = spawn(process.execPath, ['--import', 'tsx', fixture], {
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  let stderr = '';
  child.stderr!.on('data', (chunk) => {
    stderr = (stderr + String(chunk)).slice(-4_000);
  });
  createInterface({ input: child.stdout! }).on('line', (line) => {
    lines.push(line);
    for (const wake of waiters) wake();
  });
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null) resolve();
    child.once('exit', () => {
      for (const wake of waiters) wake();
      resolve();
    });
  });
  const running = () => child.exitCode === null && child.signalCode === null;
  return {
    process: child,
    name,
    send: (command) => {
      child.stdin!.write(`${command}\n`);
    },
    line: (match, timeoutMs = options.timeoutMs ?? 30_000) =>
      new Promise<string>((resolve, reject) => {
        const accepts = typeof match === 'string' ? (l: string) => l.startsWith(match) : match;
        const check = () => {
          const index = lines.findIndex(accepts);
          if (index !== -1) {
            done();
            resolve(lines.splice(index, 1)[0]!);
          } else if (!running()) {
            done();
            reject(new Error(`${name} exited (${child.exitCode ?? child.signalCode}): ${stderr}`));
          }
        };
        const expected = typeof match === 'string' ? `"${match}"` : 'expected';
        const timer = setTimeout(() => {
          done();
          reject(new Error(`${name}: no ${expected} line within ${timeoutMs} ms: ${stderr}`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      }),
    kill() {
      if (running()) child.kill('SIGKILL');
    },
    async stop() {
      if (!running()) return;
      if (child.stdin!.writable) child.stdin!.write('stop\n');
      const killed = setTimeout(() => child.kill('SIGKILL'), 3_000);
      await exited;
      clearTimeout(killed);
    },
  };
}
