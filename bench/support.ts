// Helpers the benchmarks share: sizes read from the environment, and the Redis keys a run leaves.
import type { Redis } from 'ioredis';

/** A whole number ≥ 1 from environment variable `name`, or `fallback` when unset. */
export function intFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) {
    throw new Error(`${name}=${raw}: expected a whole number >= 1`);
  }
  return value;
}

/** Every key matching `pattern` (SCAN, never KEYS). */
export async function scanKeys(client: Redis, pattern: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, found] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    keys.push(...found);
  } while (cursor !== '0');
  return keys;
}

/** Unlinks every key matching `pattern`. */
export async function unlinkKeys(client: Redis, pattern: string): Promise<void> {
  const keys = await scanKeys(client, pattern);
  for (let i = 0; i < keys.length; i += 1000) await client.unlink(...keys.slice(i, i + 1000));
}
