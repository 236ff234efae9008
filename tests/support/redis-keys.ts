import type { Redis } from 'ioredis';

/** The keys matching `pattern` on each node given (each master of a Cluster). */
export async function keysMatching(nodes: Redis[], pattern: string): Promise<string[]> {
  const found: string[] = [];
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      found.push(...keys);
    } while (cursor !== '0');
  }
  return found;
}

/** Deletes the keys matching `pattern` on each node given; one DEL a key, so any slots. */
export async function deleteKeysMatching(nodes: Redis[], pattern: string): Promise<void> {
  for (const node of nodes) {
    const keys = await keysMatching([node], pattern);
    if (keys.length === 0) continue;
    const pipeline = node.pipeline();
    for (const key of keys) pipeline.del(key);
    await pipeline.exec();
  }
}

/** The keys under the hash tag `{prefix}` on each node given (each master of a Cluster). */
export function keysUnderTag(nodes: Redis[], prefix: string): Promise<string[]> {
  return keysMatching(nodes, `{${prefix}}:*`);
}

/** Deletes the keys of a store's prefix (all under its hash tag) on each node given. */
export async function deleteKeysUnderTag(nodes: Redis[], prefix: string): Promise<void> {
  for (const node of nodes) {
    const keys = await keysUnderTag([node], prefix);
    // One hash tag is one slot: a batch is one command, on a Cluster too.
    for (let i = 0; i < keys.length; i += 500) await node.del(...keys.slice(i, i + 500));
  }
}
