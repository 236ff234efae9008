/**
 * @internal The Lua scripts of the Redis task backend. Each one is a single atomic state change of
 * one queue: Redis runs a script to its end before any other command, so two workers can never
 * both pop the same task, and a finish can never interleave with the recovery of the same lease.
 *
 * Keys (`Q` = `<prefix>:{<queue>}:`, so every key of a queue hashes to one Cluster slot):
 * - `Q t:<id>`          hash of one task (short field names, see the list below);
 * - `Q p:<id>`          string: the task's payload (JSON text), apart from its hash so that no
 *                       script carries it: a claim returns the ids and the worker reads the
 *                       payloads with one MGET;
 * - `Q ready`           zset, score `band(priority) * 2^42 + seq`: priority first, then FIFO;
 * - `Q delayed`         zset by `runAt`;
 * - `Q active`          zset by lease expiry (`leaseUntil`);
 * - `Q blocked`         set of tasks waiting for dependencies;
 * - `Q pending:<id>`    set of the dependencies `<id>` still waits for;
 * - `Q dependents:<id>` set of the blocked tasks that wait for `<id>`;
 * - `Q completed`, `Q dead`, `Q cancelled`: zsets by `finishedAt`, trimmed by count and age;
 * - `Q paused`          string flag; `Q seq` counter of sequence numbers and fencing tokens;
 * - `Q marker`          zset that blocked `waitForWork` calls pop (BZPOPMIN): member `r` (score 0)
 *                       means "something is ready", member `d` (score = its `runAt`) "a delayed task
 *                       becomes due then";
 * - `Q workers`/`Q workers:exp`: worker heartbeats (hash of `<server ms>|<JSON>`, zset by expiry);
 * - `Q u:<id>`          present while a task id submitted with `uniqueForMs` stays taken, even after
 *                       its task was removed by retention (schedule slots use it);
 * - `Q req:<rid>`       the answer to one call, kept for a short while so that a call re-sent after
 *                       its reply was lost (ioredis re-sends what a dropped connection left
 *                       unanswered, and the backend retries once) gets the first answer instead of
 *                       running again.
 *
 * Every time a script compares or stores for a lease, a delay or retention is the Redis server's
 * (`TIME`), never the caller's: two processes whose clocks disagree still agree on when a lease
 * ends.
 *
 * Declared keys: the fixed keys above and the key of every task the caller names are passed in
 * KEYS. Keys of tasks the script discovers itself (popped from `ready`, the dependents of a
 * finished task, entries trimmed by retention) are built from the queue's key prefix `Q`, passed in
 * ARGV: they carry the same `{queue}` hash tag, so they live in the same Cluster slot as the
 * declared keys.
 *
 * One module per script under `scripts/`, all starting with the shared Lua of `scripts/common.ts`.
 */

export { ADD } from './scripts/add.js';
export { CANCEL } from './scripts/cancel.js';
export { CLAIM, CLAIM_FIELDS } from './scripts/claim.js';
export { COUNTS } from './scripts/counts.js';
export { PURGE, RETRY_DEAD } from './scripts/dead.js';
export { FINISH } from './scripts/finish.js';
export { GROUP_LIST, GROUP_SET } from './scripts/group-admin.js';
export { RECOVER, RELEASE, RENEW } from './scripts/leases.js';
export { ONCE } from './scripts/once.js';
export { PROGRESS } from './scripts/progress.js';
export { RESTORE_DEAD } from './scripts/restore.js';
export { SHARED_GIVE, SHARED_TAKE } from './scripts/shared-limit.js';
export { HEARTBEAT, REMOVE_WORKER, WORKERS } from './scripts/workers.js';
