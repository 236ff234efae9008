import type { RedisClient } from '../../redis/client.js';
import { escapeSegment, globEscape } from '../../redis/keys.js';
import { runScript } from '../../redis/scripts.js';
import { forEachScanPage, regExpEscape } from './redis-scan.js';
import { DELETE_BY_TAGS, PRUNE } from './redis-scripts.js';

// The Redis tier's tag indexes: `P:{ns}:t:<tag>`, the keys of a namespace carrying a tag, and
// `P:tag-ns:<tag>`, the namespaces with entries carrying it (so a global delete visits only those).

const TAG_BATCH = 500;

/** @internal The key of the set of namespaces that have entries carrying `tag`. */
export function tagNamespacesKey(prefix: string, tag: string): string {
  return `${prefix}:tag-ns:${escapeSegment(tag)}`;
}

/** @internal Deletes the entries of one namespace carrying any of `tags`; resolves how many. */
export async function deleteTagsInNamespace(
  client: RedisClient,
  nsPrefix: string,
  tags: readonly string[],
): Promise<number> {
  const keys = tags.map((tag) => nsPrefix + 't:' + escapeSegment(tag));
  let removed = 0;
  for (;;) {
    const [count, left] = (await runScript(client, DELETE_BY_TAGS, keys, [
      nsPrefix,
      TAG_BATCH,
      ...tags,
    ])) as [number, number];
    removed += count;
    if (left === 0) return removed;
  }
}

/** @internal Deletes the entries carrying any of `tags` in every namespace that has some. */
export async function deleteTagsEverywhere(
  client: RedisClient,
  prefix: string,
  tags: readonly string[],
): Promise<number> {
  const lists = await Promise.all(
    tags.map((tag) => client.smembers(tagNamespacesKey(prefix, tag))),
  );
  const byNamespace = new Map<string, string[]>();
  lists.forEach((namespaces, i) => {
    for (const ns of namespaces) {
      const list = byNamespace.get(ns) ?? [];
      list.push(tags[i]!);
      byNamespace.set(ns, list);
    }
  });
  const counts = await Promise.all(
    [...byNamespace].map(([ns, nsTags]) =>
      deleteTagsInNamespace(client, `${prefix}:{${ns}}:`, nsTags),
    ),
  );
  // The registries are not pruned here: removing a namespace from `tag-ns` cannot be made
  // atomic with a concurrent set in that namespace (other hash slot); they expire instead.
  return counts.reduce((a, b) => a + b, 0);
}

/**
 * @internal Prunes every tag set under `prefix`: members whose entry expired, was deleted or no
 * longer carries the tag. Resolves how many members were removed.
 */
export async function pruneTagIndexes(client: RedisClient, prefix: string): Promise<number> {
  const tagSet = new RegExp(`^${regExpEscape(prefix)}:\\{([^{}:]*)\\}:t:([^{}:]*)$`);
  let cleaned = 0;
  await forEachScanPage(client, `${globEscape(prefix)}:{*}:t:*`, async (keys) => {
    for (const key of keys) {
      const match = tagSet.exec(key);
      if (match === null) continue;
      cleaned += await pruneTagSet(client, key, `${prefix}:{${match[1]}}:`, match[2]!);
    }
  });
  return cleaned;
}

async function pruneTagSet(
  client: RedisClient,
  setKey: string,
  nsPrefix: string,
  escapedTag: string,
): Promise<number> {
  let cleaned = 0;
  let cursor = '0';
  do {
    const [next, members] = await client.sscan(setKey, cursor, 'COUNT', TAG_BATCH);
    cursor = next;
    if (members.length > 0) {
      cleaned += Number(
        await runScript(client, PRUNE, [setKey], [nsPrefix, escapedTag, ...members]),
      );
    }
  } while (cursor !== '0');
  return cleaned;
}
