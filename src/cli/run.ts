// The command line: arguments parsed with Node's util.parseArgs, one instance on the deployment's
// Redis that only submits and reads (no workers, no scheduler timers), the answer printed.
import { parseArgs } from 'node:util';
// The tasks module's composition: the command line builds an instance that uses it.
import '../compose/tasks.js';
import { createEnterprise } from '../enterprise.js';
import { redisTaskBackend } from '../tasks/backends/redis.js';
import { CliError } from './cli-error.js';
import { COMMANDS, MAINTENANCE_TASKS } from './commands.js';
import { openAlertStore, storeSilences } from './silences.js';

export const USAGE = `Usage: revcopy-enterprise <command> [options]

Commands (against the task store of a deployment, on REDIS_URL):
  health                               the store is reachable; queues, workers alive (exit 1 if degraded)
  queues                               every queue: waiting, delayed, active, completed, dead, workers
  dead list|retry <id>|purge           the dead letter queue (--queue to narrow, --limit for list)
  schedules list|pause|resume|remove|run <name>
                                       schedules of every process, changed for every process
  maintenance run <task>               submits a maintenance task now, run by the deployment's workers:
                                       ${MAINTENANCE_TASKS.join(', ')}
  export [--file <f>]                  schedules, dead tasks and silences as a JSON document (printed,
                                       or to a file)
  import <file> [--dry-run]            restores such a document; importing it again changes nothing

Options:
  --redis-url <url>   the deployment's Redis (default: REDIS_URL)
  --prefix <prefix>   the task backend's key prefix (default: enterprise:tasks)
  --alerts-prefix <p> the alert store's key prefix, for silences (default: enterprise:alerts)
  --queue <name>      one queue only (dead) or the queue to submit to (maintenance)
  --limit <n>         how many dead tasks to list (default 20)
  --file <f>          export: the file to write
  --dry-run           import: check and count, write nothing
  --json              print JSON instead of text
  -h, --help          this help`;

/** Where the command line writes; the bin gives process.stdout/stderr, tests collect lines. */
export interface CliOutput {
  out(line: string): void;
  err(line: string): void;
}

/**
 * Runs one command line and resolves its exit code (0 done, 1 failed, 2 usage). Never throws.
 *
 * @example
 * ```ts
 * const code = await runCli(['queues', '--json'], { REDIS_URL: 'redis://127.0.0.1:6379' }, {
 *   out: (line) => console.log(line),
 *   err: (line) => console.error(line),
 * });
 * ```
 */
export async function runCli(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  output: CliOutput,
): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    output.err(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [name, ...args] = positionals;
  if (values.help || name === undefined) {
    (values.help ? output.out : output.err)(USAGE);
    return values.help ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (command === undefined) {
    output.err(`unknown command "${name}"\n\n${USAGE}`);
    return 2;
  }
  const url = values['redis-url'] ?? env.REDIS_URL;
  if (url === undefined || url === '') {
    output.err('no Redis to talk to: set REDIS_URL or pass --redis-url');
    return 2;
  }
  const limit = values.limit === undefined ? undefined : Number(values.limit);
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > 10_000)) {
    output.err(`--limit=${values.limit} is invalid: expected a whole number from 1 to 10000`);
    return 2;
  }
  const backend = redisTaskBackend({
    url,
    commandTimeoutMs: 5_000,
    onError: () => undefined,
    ...(values.prefix === undefined ? {} : { prefix: values.prefix }),
  });
  const enterprise = createEnterprise({
    logLevel: 'silent',
    env: {},
    performance: { systemMetrics: false },
    tasks: { backend, strictNames: false },
  });
  // Only export and import read silences: the other commands open no second connection.
  const alertStore =
    name === 'export' || name === 'import'
      ? openAlertStore(url, values['alerts-prefix'])
      : undefined;
  try {
    const result = await command(enterprise, {
      ...(alertStore === undefined ? {} : { silences: storeSilences(alertStore) }),
      args,
      ...(values.queue === undefined ? {} : { queue: values.queue }),
      ...(limit === undefined ? {} : { limit }),
      ...(values.file === undefined ? {} : { file: values.file }),
      ...(values['dry-run'] === true ? { dryRun: true } : {}),
    });
    if (values.json) output.out(JSON.stringify(result.data, null, 2));
    else for (const line of result.text) output.out(line);
    return result.exitCode;
  } catch (error) {
    const exitCode = error instanceof CliError ? error.exitCode : 1;
    output.err(`error: ${(error as Error).message}`);
    if (exitCode === 2) output.err(`\n${USAGE}`);
    return exitCode;
  } finally {
    await enterprise.shutdown().catch(() => undefined);
    await backend.close().catch(() => undefined);
    await alertStore?.close().catch(() => undefined);
  }
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      'redis-url': { type: 'string' },
      prefix: { type: 'string' },
      'alerts-prefix': { type: 'string' },
      queue: { type: 'string' },
      limit: { type: 'string' },
      file: { type: 'string' },
      'dry-run': { type: 'boolean' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}
