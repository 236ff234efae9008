import { ConfigError } from '../../core/errors.js';
import type { TaskSettings } from '../settings.js';
import type { TaskBackend } from '../types.js';
import { memoryTaskBackend } from './memory.js';

/** The backend an instance uses, and whether it opened it (then `shutdown()` closes it). */
export interface SelectedBackend {
  backend: TaskBackend;
  owned: boolean;
}

/**
 * Picks the backend from the settings: the one given (never closed by us), memory, or Redis when
 * asked for or when `REDIS_URL` is set. The Redis backend is imported only then, so the root entry
 * and memory-only processes never load it.
 *
 * @internal
 */
export async function selectTaskBackend(settings: TaskSettings): Promise<SelectedBackend> {
  const choice = settings.backend;
  if (choice !== undefined && typeof choice === 'object') return { backend: choice, owned: false };
  if (choice === 'memory' || (choice === undefined && settings.redisUrl === undefined)) {
    return { backend: memoryTaskBackend({ retention: settings.retention }), owned: true };
  }
  if (settings.redisUrl === undefined) {
    const expected =
      'REDIS_URL (or redisUrl) set, or a backend such as redisTaskBackend({ client })';
    throw new ConfigError(
      `tasks.backend="redis" is invalid without a Redis URL: expected ${expected}`,
      {
        source: 'tasks.backend',
        value: 'redis',
        expected,
      },
    );
  }
  const { redisTaskBackend } = await import('./redis.js');
  return {
    backend: redisTaskBackend({ url: settings.redisUrl, retention: settings.retention }),
    owned: true,
  };
}
