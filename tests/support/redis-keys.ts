import type { Redis } from 'ioredis';

/** The keys under the hash tag `{prefix}` on each node given (each master of a Cluster). */
export async function keysUnderTag(nodes: Redis[], prefix: string): Promise<string[]> {
  const found: string[] = [];
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', `{${prefix}}:*`, 'COUNT', 1000);
      cursor = next;
      found.push(...keys);
    } while (cursor !== '0');
  }
  return found;
}

/** Deletes the keys of a store's prefix (all under its hash tag) on each node given. */
export async function deleteKeysUnderTag(nodes: Redis[], prefix: string): Promise<void> {
  for (const node of nodes) {
    for (const key of await keysUnderTag([node], prefix)) await node.del(key);
  }
}
