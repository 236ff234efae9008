import { describe, expect, it } from 'vitest';
import {
  type BottleneckFigures,
  type CacheNamespaceFigures,
  type OperationFigures,
  type QueueFigures,
  Recommender,
  recommend,
} from '../../src/alerts/recommendations.js';

const T0 = 1_700_000_000_000;
const MIN = 60_000;

const kinds = (list: { kind: string }[]) => list.map((r) => r.kind);

describe('recommend: a statement that dominates database time', () => {
  const queries = (a: number, b: number, c: number) => [
    { statement: 'SELECT * FROM orders WHERE customer_id = ?', count: 200, totalMs: a, p95Ms: 90 },
    { statement: 'SELECT * FROM users WHERE id = ?', count: 400, totalMs: b, p95Ms: 4 },
    { statement: 'UPDATE carts SET total = ? WHERE id = ?', count: 50, totalMs: c, p95Ms: 30 },
  ];

  it('fires for the statement over the share threshold, with the figures', () => {
    const [r, ...rest] = recommend({ at: T0, queries: queries(8_000, 1_000, 1_000) });
    expect(rest).toEqual([]);
    expect(r).toMatchObject({
      id: 'dominant-query:SELECT * FROM orders WHERE customer_id = ?',
      kind: 'dominant-query',
      severity: 'warning',
      evidence: {
        statement: 'SELECT * FROM orders WHERE customer_id = ?',
        share: 0.8,
        totalMs: 8_000,
        databaseMs: 10_000,
        count: 200,
        meanMs: 40,
        p95Ms: 90,
      },
    });
    expect(r!.title).toContain('80 %');
    expect(r!.advice).toContain('EXPLAIN');
  });

  it('tells a loop of cheap queries (N+1) from a slow statement', () => {
    const [r] = recommend({
      at: T0,
      queries: [
        {
          statement: 'SELECT * FROM items WHERE order_id = ?',
          count: 5_000,
          totalMs: 6_000,
          p95Ms: 2,
        },
        { statement: 'SELECT 1', count: 10, totalMs: 100, p95Ms: 10 },
      ],
    });
    expect(r!.advice).toContain('N+1');
  });

  it('stays quiet when the time is spread, or when there is too little of it', () => {
    expect(recommend({ at: T0, queries: queries(3_000, 3_000, 4_000) })).toEqual([]);
    expect(recommend({ at: T0, queries: queries(800, 10, 10) })).toEqual([]);
    expect(recommend({ at: T0, queries: [] })).toEqual([]);
  });

  it('follows the thresholds given', () => {
    expect(
      recommend({ at: T0, queries: queries(8_000, 1_000, 1_000) }, { dominantQueryShare: 0.8 }),
    ).toEqual([]);
    expect(
      recommend({ at: T0, queries: queries(3_000, 3_000, 4_000) }, { dominantQueryShare: 0.35 }),
    ).toHaveLength(1);
    expect(
      recommend({ at: T0, queries: queries(8_000, 1_000, 1_000) }, { minQueryTimeMs: 20_000 }),
    ).toEqual([]);
  });
});

describe('recommend: a cache namespace with a low hit ratio and a slow loader', () => {
  const ns = (
    namespace: string,
    hits: number,
    misses: number,
    loaderMeanMs: number,
  ): CacheNamespaceFigures => ({
    namespace,
    hits,
    misses,
    loaderCalls: misses,
    loaderMs: misses * loaderMeanMs,
  });

  it('fires with advice on TTL, grace and warmers', () => {
    const list = recommend({
      at: T0,
      cache: [ns('products', 20, 180, 250), ns('users', 950, 50, 250), ns('tags', 100, 900, 3)],
    });
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({
      id: 'cache-slow-loader:products',
      kind: 'cache-slow-loader',
      severity: 'warning',
      evidence: {
        namespace: 'products',
        hitRatio: 0.1,
        lookups: 200,
        loaderCalls: 180,
        loaderMeanMs: 250,
      },
    });
    expect(list[0]!.advice).toMatch(/TTL/);
    expect(list[0]!.advice).toMatch(/grace/);
    expect(list[0]!.advice).toMatch(/warmer/);
  });

  it('stays quiet for a high hit ratio, a fast loader, or too few lookups', () => {
    expect(
      recommend({
        at: T0,
        cache: [ns('users', 950, 50, 400), ns('tags', 100, 900, 3), ns('new', 1, 9, 500)],
      }),
    ).toEqual([]);
  });
});

describe('recommend: a queue whose oldest waiting task keeps ageing', () => {
  const queue = (oldestWaitingMs: number, workers = 1): QueueFigures => ({
    queue: 'reports',
    waiting: 40,
    oldestWaitingMs,
    concurrency: 2 * workers,
    workers,
  });
  const ages = (...points: [number, number][]) => ({
    queueAges: { reports: points.map(([at, ms]) => ({ at: T0 + at, ms })) },
  });

  it('fires when the age has grown over the last snapshots for long enough', () => {
    const [r] = recommend({
      at: T0 + 6 * MIN,
      queues: [queue(430_000)],
      history: ages([0, 70_000], [3 * MIN, 250_000]),
    });
    expect(r).toMatchObject({
      id: 'queue-ageing:reports',
      kind: 'queue-ageing',
      severity: 'warning',
      evidence: {
        queue: 'reports',
        oldestWaitingMs: 430_000,
        ageingForMs: 6 * MIN,
        waiting: 40,
        concurrency: 2,
        workers: 1,
      },
    });
    expect(r!.advice).toContain('concurrency');
  });

  it('says so when no worker consumes the queue', () => {
    const [r] = recommend({
      at: T0 + 6 * MIN,
      queues: [queue(430_000, 0)],
      history: ages([0, 70_000], [3 * MIN, 250_000]),
    });
    expect(r).toMatchObject({ kind: 'queue-ageing', severity: 'critical' });
    expect(r!.advice).toContain('No healthy worker');
  });

  it('stays quiet for an age that drops, grows only briefly, is young, or has no history', () => {
    const at = T0 + 6 * MIN;
    // Dropped in between: the workers caught up.
    expect(
      recommend({ at, queues: [queue(90_000)], history: ages([0, 70_000], [3 * MIN, 20_000]) }),
    ).toEqual([]);
    // Three growing snapshots, but within two minutes.
    expect(
      recommend({
        at,
        queues: [queue(190_000)],
        history: ages([4 * MIN, 70_000], [5 * MIN, 130_000]),
      }),
    ).toEqual([]);
    // Growing for long, but still young.
    expect(
      recommend({ at, queues: [queue(30_000)], history: ages([0, 1_000], [3 * MIN, 10_000]) }),
    ).toEqual([]);
    // A steady lag is not ageing.
    expect(
      recommend({ at, queues: [queue(90_000)], history: ages([0, 90_000], [3 * MIN, 90_000]) }),
    ).toEqual([]);
    expect(recommend({ at, queues: [queue(430_000)] })).toEqual([]);
  });
});

describe('recommend: an operation that blocks the event loop', () => {
  const operations: OperationFigures[] = [
    { operation: 'ReportService.render', labels: {}, count: 3, p99Ms: 240, maxMs: 250 },
    { operation: 'db.query', labels: { statement: 'SELECT 1' }, count: 900, p99Ms: 9, maxMs: 12 },
    {
      operation: 'http.request',
      labels: { route: '/export' },
      count: 4,
      p99Ms: 4_800,
      maxMs: 5_000,
    },
  ];

  it('names the operation whose longest call matches the stall', () => {
    const list = recommend({
      at: T0,
      operations,
      eventLoop: { delayP99Ms: 230, delayMaxMs: 240, utilization: 0.93 },
    });
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({
      id: 'event-loop-blocker:ReportService.render',
      kind: 'event-loop-blocker',
      evidence: {
        operation: 'ReportService.render',
        maxMs: 250,
        loopDelayMaxMs: 240,
        loopDelayP99Ms: 230,
        loopUtilization: 0.93,
      },
    });
    expect(list[0]!.advice).toContain('worker thread');
  });

  it('stays quiet while the event loop is not stalled, or when no operation matches the stall', () => {
    expect(
      recommend({
        at: T0,
        operations,
        eventLoop: { delayP99Ms: 11, delayMaxMs: 15, utilization: 0.2 },
      }),
    ).toEqual([]);
    expect(
      recommend({
        at: T0,
        operations: operations.slice(1),
        eventLoop: { delayP99Ms: 230, delayMaxMs: 240, utilization: 0.9 },
      }),
    ).toEqual([]);
    expect(recommend({ at: T0, operations, eventLoop: null })).toEqual([]);
  });
});

describe('recommend: an operation ranked first for a long time', () => {
  const ranking = (operation: string, share: number): BottleneckFigures[] => [
    { operation, labels: {}, share, totalMs: share * 100_000 },
    { operation: 'other', labels: {}, share: 1 - share, totalMs: (1 - share) * 100_000 },
  ];

  it('fires when the history says it has led for long enough', () => {
    const [r] = recommend({
      at: T0 + 20 * MIN,
      bottlenecks: ranking('ReportService.build', 0.6),
      history: { leader: { key: 'ReportService.build', since: T0 } },
    });
    expect(r).toMatchObject({
      id: 'persistent-bottleneck:ReportService.build',
      kind: 'persistent-bottleneck',
      severity: 'info',
      evidence: { operation: 'ReportService.build', share: 0.6, leadingForMs: 20 * MIN },
    });
  });

  it('stays quiet for a new leader, a short lead, or a small share', () => {
    const history = { leader: { key: 'ReportService.build', since: T0 } };
    const at = T0 + 20 * MIN;
    expect(recommend({ at, bottlenecks: ranking('Search.query', 0.6), history })).toEqual([]);
    expect(
      recommend({ at: T0 + 5 * MIN, bottlenecks: ranking('ReportService.build', 0.6), history }),
    ).toEqual([]);
    expect(recommend({ at, bottlenecks: ranking('ReportService.build', 0.2), history })).toEqual(
      [],
    );
  });
});

describe('recommend', () => {
  it('lists the most severe first, and nothing for an empty snapshot', () => {
    expect(recommend({ at: T0 })).toEqual([]);
    const list = recommend({
      at: T0 + 6 * MIN,
      queries: [
        { statement: 'A', count: 10, totalMs: 6_000, p95Ms: 700 },
        { statement: 'B', count: 10, totalMs: 4_000, p95Ms: 500 },
      ],
      queues: [{ queue: 'q', waiting: 5, oldestWaitingMs: 400_000, concurrency: 0, workers: 0 }],
      history: {
        queueAges: {
          q: [
            { at: T0, ms: 100_000 },
            { at: T0 + 3 * MIN, ms: 200_000 },
          ],
        },
      },
    });
    expect(list.map((r) => r.severity)).toEqual(['critical', 'info']);
  });
});

describe('Recommender', () => {
  it('remembers the leader across snapshots and fires once it has led for 15 minutes', () => {
    const recommender = new Recommender();
    const seen: string[][] = [];
    for (let minute = 0; minute <= 20; minute += 5) {
      const bottlenecks = [
        { operation: 'ReportService.build', labels: { format: 'pdf' }, share: 0.55, totalMs: 1 },
      ];
      seen.push(kinds(recommender.update({ at: T0 + minute * MIN, bottlenecks })));
    }
    expect(seen).toEqual([[], [], [], ['persistent-bottleneck'], ['persistent-bottleneck']]);
    expect(recommender.history.leader).toEqual({
      key: 'ReportService.build format=pdf',
      since: T0,
    });
  });

  it('starts counting again when another operation takes the lead', () => {
    const recommender = new Recommender({ leaderForMs: 10 * MIN });
    const lead = (operation: string, minute: number) =>
      kinds(
        recommender.update({
          at: T0 + minute * MIN,
          bottlenecks: [{ operation, labels: {}, share: 0.5, totalMs: 1 }],
        }),
      );
    expect(lead('a', 0)).toEqual([]);
    expect(lead('a', 5)).toEqual([]);
    expect(lead('b', 10)).toEqual([]);
    expect(lead('b', 15)).toEqual([]);
    expect(lead('b', 20)).toEqual(['persistent-bottleneck']);
  });

  it("keeps each queue's oldest waiting age and fires when it keeps growing", () => {
    const recommender = new Recommender();
    const feed = (minute: number, ms: number) =>
      kinds(
        recommender.update({
          at: T0 + minute * MIN,
          queues: [
            { queue: 'reports', waiting: 9, oldestWaitingMs: ms, concurrency: 1, workers: 1 },
          ],
        }),
      );
    expect(feed(0, 70_000)).toEqual([]);
    expect(feed(3, 250_000)).toEqual([]);
    expect(feed(6, 430_000)).toEqual(['queue-ageing']);
    expect(recommender.history.queueAges?.reports).toHaveLength(3);
    // The workers catch up: the age drops, and the advice goes.
    expect(feed(7, 5_000)).toEqual([]);
  });
});
