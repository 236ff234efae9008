import type { Logger } from '../../core/logger.js';
import type { TaskBackend } from '../types.js';
import type { Running } from './attempt.js';

/**
 * @internal Stores an attempt's progress (JSON text) one write at a time, the latest value each
 * time: reports made while a write is in flight are folded into the next one. Parallel writes
 * could land out of order (a script Redis forgot goes again by EVAL, after the later ones), and
 * the last could land after the attempt's outcome, which refuses it; the pool's outcomes wait for
 * `running.progressWrite` instead.
 */
export function storeProgress(
  running: Running,
  text: string,
  backend: TaskBackend,
  queue: string,
  log: Logger,
): void {
  running.progressText = text;
  running.progressWrite ??= writeAll(running, backend, queue, log);
}

async function writeAll(
  running: Running,
  backend: TaskBackend,
  queue: string,
  log: Logger,
): Promise<void> {
  try {
    while (running.progressText !== undefined) {
      const text = running.progressText;
      running.progressText = undefined;
      try {
        await backend.setProgress(queue, { id: running.task.id, token: running.token }, text);
      } catch (error) {
        log.debug({ err: error, task: running.task.id }, 'progress could not be stored');
      }
    }
  } finally {
    running.progressWrite = undefined;
  }
}
