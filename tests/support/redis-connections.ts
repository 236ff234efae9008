import type { Redis } from 'ioredis';

/**
 * The ids (for CLIENT KILL ID) of the connections named `name`, those subscribed to a channel only
 * with `subscribed`. By name and id: killing every pubsub connection would also hit the other
 * suites sharing this Redis.
 *
 * @example
 * ```ts
 * const [id] = await connectionIds(admin, name, true);
 * await admin.client('KILL', 'ID', id!);
 * ```
 */
export async function connectionIds(
  admin: Redis,
  name: string,
  subscribed = false,
): Promise<string[]> {
  return String(await admin.client('LIST'))
    .split('\n')
    .filter((line) => line.includes(` name=${name} `) && (!subscribed || / sub=[1-9]/.test(line)))
    .map((line) => /(?:^| )id=(\d+)/.exec(line)![1]!);
}
