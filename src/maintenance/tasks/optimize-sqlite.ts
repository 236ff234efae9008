import type { SqliteDatabaseLike } from '../sql.js';

/**
 * @internal SQLite's own maintenance: `PRAGMA optimize` (re-analyzes what the planner would
 * benefit from), a WAL checkpoint that truncates the log in WAL mode, and an incremental vacuum
 * of the free pages when `auto_vacuum` is incremental. A dry run only reads the figures.
 */
export function optimizeSqlite(
  db: SqliteDatabaseLike,
  dryRun: boolean,
): { done: Record<string, number>; details: Record<string, unknown> } {
  const read = (pragma: string) => db.pragma(pragma, { simple: true });
  const journalMode = String(read('journal_mode'));
  const autoVacuum = Number(read('auto_vacuum'));
  const freePagesBefore = Number(read('freelist_count'));
  const details: Record<string, unknown> = {
    journalMode,
    autoVacuum: ['none', 'full', 'incremental'][autoVacuum] ?? autoVacuum,
    pages: Number(read('page_count')),
    freePagesBefore,
  };
  const done: Record<string, number> = { sqliteOptimized: 0, walCheckpoints: 0, freedPages: 0 };
  if (dryRun) return { done, details };
  db.pragma('optimize');
  done.sqliteOptimized = 1;
  if (journalMode.toLowerCase() === 'wal') {
    const [result] = db.pragma('wal_checkpoint(TRUNCATE)') as {
      busy: number;
      log: number;
      checkpointed: number;
    }[];
    details.walCheckpoint = result;
    done.walCheckpoints = 1;
  }
  if (autoVacuum === 2 && freePagesBefore > 0) {
    db.pragma('incremental_vacuum');
    done.freedPages = freePagesBefore - Number(read('freelist_count'));
  }
  return { done, details };
}
