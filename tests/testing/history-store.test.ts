// describeHistoryStore against broken stores: each fails the tests about what it breaks, so the
// suite would catch a store that double-counts retried writes, replaces instead of merging, keeps
// everything forever or answers nonsense queries.
import { describe, expect, it } from 'vitest';
import {
  type HistoryQuery,
  type HistorySeries,
  MemoryHistoryStore,
  type MemoryHistoryStoreOptions,
  type MinuteRollup,
} from '../../src/analytics/history/index.js';
import {
  describeHistoryStore,
  type HistoryStoreHarness,
  type TestApi,
} from '../../src/testing/index.js';

interface Collected {
  name: string;
  run(): Promise<void>;
}

/** Registers the suite's tests with a stand-in runner and hands them back, to run one by one. */
function collect(harness: HistoryStoreHarness): Collected[] {
  const tests: Collected[] = [];
  const afterEach: (() => unknown)[] = [];
  const api: TestApi = {
    describe: (_name, body) => body(),
    it: (name, body) => {
      tests.push({
        name,
        async run() {
          try {
            await body();
          } finally {
            for (const hook of afterEach) await hook();
          }
        },
      });
    },
    expect,
    beforeEach: () => undefined,
    afterEach: (body) => afterEach.push(body),
  };
  describeHistoryStore('under test', api, harness);
  return tests;
}

async function failures(make: (options: MemoryHistoryStoreOptions) => MemoryHistoryStore) {
  const failed: string[] = [];
  const tests = collect({
    create: (options) => ({ store: make(options), cleanup: () => undefined }),
  });
  for (const test of tests) await test.run().catch(() => failed.push(test.name));
  return failed;
}

const NAMES = {
  points: 'answers one point per step with counts, errors, rate, mean and percentiles',
  merge: 'merges the buckets of minutes and instances: percentiles are those of all samples',
  once: 'counts a rollup once however often it is written, by any instance',
  labels: 'merges the label sets that have the labels asked for, and only those',
  empty: 'answers every step of the range, empty ones with nulls',
  refuse: 'refuses bad queries with a HistoryQueryError naming the parameter',
  figures: 'answers figures: samples, sum, mean, min and max per step',
  hours: 'merges minutes into hours exactly',
  retention: 'keeps minutes for their retention, then only hours, then nothing',
  series: 'lists the operations and figures it holds, one entry per label set',
  rollups: 'refuses a rollup that is not one before writing anything',
  close: 'closes idempotently',
};

let counter = 0;

const BROKEN: Record<
  string,
  { make: (options: MemoryHistoryStoreOptions) => MemoryHistoryStore; fails: string[] }
> = {
  'retried writes counted again': {
    make: (options) =>
      new (class extends MemoryHistoryStore {
        override write(rollup: MinuteRollup): Promise<void> {
          return super.write({ ...rollup, id: rollup.id && `${rollup.id}:${counter++}` });
        }
      })(options),
    fails: [NAMES.once],
  },
  'the last instance of a minute wins': {
    make: (options) => {
      const seen = new Set<number>();
      return new (class extends MemoryHistoryStore {
        override async write(rollup: MinuteRollup): Promise<void> {
          // Only the first rollup of each minute is kept: the other instances' are lost.
          if (seen.has(rollup.at)) return;
          await super.write(rollup);
          seen.add(rollup.at);
        }
      })(options);
    },
    fails: [NAMES.merge],
  },
  'kept forever': {
    make: (options) =>
      new MemoryHistoryStore({ ...options, retention: { minutes: '30d', hours: '365d' } }),
    fails: [NAMES.retention],
  },
  'unknown operations answered as empty': {
    make: (options) =>
      new (class extends MemoryHistoryStore {
        override async query(query: HistoryQuery): Promise<HistorySeries> {
          try {
            return await super.query(query);
          } catch {
            return {
              operation: query.operation,
              labels: {},
              labelSets: 0,
              from: 0,
              to: 0,
              stepMs: 60_000,
              resolution: 'minute',
              points: [],
            };
          }
        }
      })(options),
    fails: [NAMES.refuse, NAMES.retention, NAMES.rollups],
  },
};

describe('describeHistoryStore', () => {
  it('registers its tests without importing a runner', () => {
    expect(
      collect({ create: () => ({ store: new MemoryHistoryStore(), cleanup() {} }) }).map(
        (t) => t.name,
      ),
    ).toEqual(Object.values(NAMES));
  });

  it('fails each broken store on the tests about what it breaks, and only on those', async () => {
    const results: Record<string, string[]> = {};
    for (const [label, { make }] of Object.entries(BROKEN)) results[label] = await failures(make);
    expect(results).toEqual(
      Object.fromEntries(Object.entries(BROKEN).map(([label, { fails }]) => [label, fails])),
    );
  });

  it('passes the memory store on every test', async () => {
    expect(await failures((options) => new MemoryHistoryStore(options))).toEqual([]);
  });
});
