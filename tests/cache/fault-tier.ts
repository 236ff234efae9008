import type { CacheTier, EntryMeta, StoredEntry } from '../../src/cache/types.js';

/**
 * An in-process remote tier for unit tests of the engine, with faults to inject: every call can be
 * made to fail, to hang, or to wait for a gate the test opens. Integration tests use the real
 * Redis, PostgreSQL and SQLite tiers instead.
 */
export class FaultTier implements CacheTier<Uint8Array> {
  readonly local = false;
  readonly entries = new Map<string, StoredEntry<Uint8Array>>();
  calls: { op: string; namespace?: string; key?: string }[] = [];
  /** When set, every call rejects with this error. */
  failWith: Error | undefined;
  /** When true, every call never settles. */
  hang = false;
  /** When set, `get` waits for this promise before answering. */
  gate: Promise<void> | undefined;
  /** When set, `delete` waits for this promise before deleting. */
  deleteGate: Promise<void> | undefined;
  /** When set, `deleteByTags` waits for this promise before deleting. */
  tagsGate: Promise<void> | undefined;

  constructor(readonly name = 'fault') {}

  async #enter(op: string, namespace?: string, key?: string): Promise<void> {
    this.calls.push({ op, namespace, key });
    if (this.hang) await new Promise(() => {});
    if (this.failWith) throw this.failWith;
  }

  async ping(): Promise<void> {
    await this.#enter('ping');
  }

  async get(namespace: string, key: string): Promise<StoredEntry<Uint8Array> | undefined> {
    await this.#enter('get', namespace, key);
    if (this.gate) await this.gate;
    const entry = this.entries.get(`${namespace}\u0000${key}`);
    if (entry === undefined || entry.staleUntil <= Date.now()) return undefined;
    return entry;
  }

  async set(namespace: string, key: string, payload: Uint8Array, meta: EntryMeta): Promise<void> {
    await this.#enter('set', namespace, key);
    this.entries.set(`${namespace}\u0000${key}`, { payload, ...meta });
  }

  async delete(namespace: string, key: string): Promise<boolean> {
    await this.#enter('delete', namespace, key);
    if (this.deleteGate) await this.deleteGate;
    return this.entries.delete(`${namespace}\u0000${key}`);
  }

  async deleteIfUnchanged(
    namespace: string,
    key: string,
    entry: StoredEntry<Uint8Array>,
  ): Promise<boolean> {
    await this.#enter('deleteIfUnchanged', namespace, key);
    if (this.deleteGate) await this.deleteGate;
    const id = `${namespace}\u0000${key}`;
    const current = this.entries.get(id);
    if (current === undefined || !sameEntry(current, entry)) return false;
    return this.entries.delete(id);
  }

  async deleteByTags(tags: readonly string[], namespace?: string): Promise<number> {
    await this.#enter('deleteByTags', namespace);
    if (this.tagsGate) await this.tagsGate;
    let removed = 0;
    for (const [id, entry] of this.entries) {
      if (namespace !== undefined && !id.startsWith(`${namespace}\u0000`)) continue;
      if (entry.tags.some((tag) => tags.includes(tag)) && this.entries.delete(id)) removed++;
    }
    return removed;
  }

  async clear(namespace?: string): Promise<void> {
    await this.#enter('clear', namespace);
    for (const id of [...this.entries.keys()]) {
      if (namespace === undefined || id.startsWith(`${namespace}\u0000`)) this.entries.delete(id);
    }
  }

  async removeExpired(): Promise<number> {
    await this.#enter('removeExpired');
    return 0;
  }

  async close(): Promise<void> {}
}

function sameEntry(a: StoredEntry<Uint8Array>, b: StoredEntry<Uint8Array>): boolean {
  return (
    Buffer.from(a.payload).equals(Buffer.from(b.payload)) &&
    a.createdAt === b.createdAt &&
    a.expiresAt === b.expiresAt &&
    a.staleUntil === b.staleUntil &&
    a.tags.length === b.tags.length &&
    a.tags.every((tag, i) => tag === b.tags[i])
  );
}
