import type { Redis } from 'ioredis';
import { masters, type RedisClient } from '../../redis/client.js';
import { globEscape, redisSegment } from '../../redis/keys.js';

// SCANs over the Redis tier's keys, on every master of a Cluster: a SCAN reaches one node only.

const SCAN_COUNT = 1_000;
const UNLINK_BATCH = 500;

/** @internal SCANs every master for `pattern`, handing each page of keys to `visit` in turn. */
export async function forEachScanPage(
  client: RedisClient,
  pattern: string,
  visit: (keys: string[], node: Redis) => Promise<void>,
): Promise<void> {
  for (const node of masters(client)) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', SCAN_COUNT);
      cursor = next;
      await visit(keys, node);
    } while (cursor !== '0');
  }
}

/**
 * @internal UNLINKs the tier's keys under `prefix` (of `namespace`, or all of them), batch by
 * batch. Not atomic: an entry written while the scan runs may survive it.
 */
export async function unlinkTierKeys(
  client: RedisClient,
  prefix: string,
  namespace: string | undefined,
): Promise<void> {
  let pattern: string;
  let mine: RegExp;
  if (namespace === undefined) {
    pattern = `${globEscape(prefix)}:*`;
    // SCAN also returns the keys of a tier whose prefix extends ours (`P:x`): keep only our
    // layout. Escaped segments hold no `{`, `}` or `:`, which is what makes this exact.
    mine = new RegExp(`^${regExpEscape(prefix)}:(?:\\{[^{}:]*\\}:[kt]:[^{}:]*|tag-ns:[^{}:]*)$`);
  } else {
    const ns = redisSegment(namespace);
    pattern = `${globEscape(prefix)}:{${globEscape(ns)}}:*`;
    mine = new RegExp(`^${regExpEscape(`${prefix}:{${ns}}:`)}[kt]:[^{}:]*$`);
  }
  await forEachScanPage(client, pattern, async (found, node) => {
    const keys = found.filter((key) => mine.test(key));
    for (let i = 0; i < keys.length; i += UNLINK_BATCH) {
      const batch = keys.slice(i, i + UNLINK_BATCH);
      if (!client.isCluster) {
        await node.unlink(...batch);
        continue;
      }
      // A multi-key UNLINK must stay in one slot; these keys only share the node, so each goes
      // alone, pipelined on the node that returned it.
      const results = (await node.pipeline(batch.map((key) => ['unlink', key])).exec()) ?? [];
      const failed = results.find(([error]) => error !== null);
      if (failed) throw failed[0];
    }
  });
}

/** @internal `text` with the characters special in a regular expression escaped. */
export function regExpEscape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
