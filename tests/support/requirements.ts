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
