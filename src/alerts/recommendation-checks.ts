// The checks behind `recommend()`, one per kind of advice. Each reads the parts of the snapshot it
// needs and returns nothing when they are missing or healthy.
import type {
  OperationFigures,
  Recommendation,
  RecommendationInputs,
  RecommendSettings,
} from './recommendation-types.js';

/** How far an operation's longest call may be from the event loop's longest stall to explain it. */
const STALL_MATCH = { low: 0.5, high: 1.5 };
/** Operations named as a possible cause of one stall, at most. */
const STALL_SUSPECTS = 3;

const percent = (share: number) => `${Math.round(share * 100)} %`;
const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;

/** A statement whose share of the database time in the window is above the threshold. */
export function dominantQueryCheck(
  inputs: RecommendationInputs,
  settings: RecommendSettings,
): Recommendation[] {
  const queries = inputs.queries ?? [];
  const databaseMs = queries.reduce((sum, q) => sum + q.totalMs, 0);
  if (databaseMs < settings.minQueryTimeMs) return [];
  const found: Recommendation[] = [];
  for (const query of queries) {
    const share = query.totalMs / databaseMs;
    if (share <= settings.dominantQueryShare || query.count === 0) continue;
    const meanMs = query.totalMs / query.count;
    // Many cheap calls point to a loop of queries (N+1); few expensive ones to the statement itself.
    const advice =
      meanMs < 5 && query.count >= 100
        ? `It is cheap per call (${round(meanMs)} ms) but runs ${query.count} times: look for a query in a loop (N+1) and fetch the rows in one statement, or cache its result.`
        : `Each call takes ${round(meanMs)} ms on average: check its plan (EXPLAIN ANALYZE) for a full scan and add the index its WHERE, JOIN or ORDER BY needs, or cache its result.`;
    found.push({
      id: `dominant-query:${query.statement}`,
      kind: 'dominant-query',
      severity: share >= 0.8 ? 'warning' : 'info',
      title: `One statement takes ${percent(share)} of the database time`,
      advice,
      evidence: {
        statement: query.statement,
        share: round(share, 3),
        totalMs: round(query.totalMs),
        databaseMs: round(databaseMs),
        count: query.count,
        meanMs: round(meanMs),
        ...(query.p95Ms === null ? {} : { p95Ms: round(query.p95Ms) }),
      },
    });
  }
  return found;
}

/** A cache namespace missing most of its lookups while each miss runs a slow loader. */
export function cacheLoaderCheck(
  inputs: RecommendationInputs,
  settings: RecommendSettings,
): Recommendation[] {
  const found: Recommendation[] = [];
  for (const ns of inputs.cache ?? []) {
    const lookups = ns.hits + ns.misses;
    if (lookups < settings.minLookups || ns.loaderCalls === 0) continue;
    const hitRatio = ns.hits / lookups;
    const loaderMeanMs = ns.loaderMs / ns.loaderCalls;
    if (hitRatio >= settings.lowHitRatio || loaderMeanMs < settings.slowLoaderMs) continue;
    found.push({
      id: `cache-slow-loader:${ns.namespace}`,
      kind: 'cache-slow-loader',
      severity: 'warning',
      title: `Cache namespace "${ns.namespace}" misses ${percent(1 - hitRatio)} of lookups, and its loader is slow`,
      advice:
        'Raise its TTL so entries live until they are read again; add a grace period so an expired value is served while one refresh runs; register a warmer that loads the hot keys before they are asked for.',
      evidence: {
        namespace: ns.namespace,
        hitRatio: round(hitRatio, 3),
        lookups,
        loaderCalls: ns.loaderCalls,
        loaderMeanMs: round(loaderMeanMs),
      },
    });
  }
  return found;
}

/** A queue whose oldest waiting task has kept getting older over the last snapshots. */
export function queueAgeingCheck(
  inputs: RecommendationInputs,
  settings: RecommendSettings,
): Recommendation[] {
  const found: Recommendation[] = [];
  for (const queue of inputs.queues ?? []) {
    if (queue.oldestWaitingMs < settings.queueAgeMs) continue;
    const samples = [
      ...(inputs.history?.queueAges?.[queue.queue] ?? []),
      { at: inputs.at, ms: queue.oldestWaitingMs },
    ];
    // The run of snapshots, ending now, over which the age never dropped.
    let start = samples.length - 1;
    while (start > 0 && samples[start - 1]!.ms <= samples[start]!.ms) start--;
    const run = samples.length - start;
    const first = samples[start]!;
    const spanMs = inputs.at - first.at;
    if (run < settings.queueSamples || spanMs < settings.queueSpanMs) continue;
    if (queue.oldestWaitingMs <= first.ms) continue;
    const noWorker = queue.workers === 0;
    found.push({
      id: `queue-ageing:${queue.queue}`,
      kind: 'queue-ageing',
      severity: noWorker ? 'critical' : 'warning',
      title: `The oldest task of queue "${queue.queue}" has waited ${Math.round(queue.oldestWaitingMs / 1000)} s and keeps waiting longer`,
      advice: noWorker
        ? 'No healthy worker consumes this queue: start workers for it (enterprise.start() in a process that registers its handlers).'
        : `Workers take tasks more slowly than they arrive: raise the queue's concurrency (now ${queue.concurrency} over ${queue.workers} worker pool(s)) or its maxConcurrency for auto-scaling, or run more worker processes.`,
      evidence: {
        queue: queue.queue,
        oldestWaitingMs: Math.round(queue.oldestWaitingMs),
        ageingForMs: Math.round(spanMs),
        waiting: queue.waiting,
        concurrency: queue.concurrency,
        workers: queue.workers,
      },
    });
  }
  return found;
}

/**
 * Operations whose longest call is about as long as the event loop's longest stall. A synchronous
 * call blocks the loop for its whole duration, so one that lasted as long as the stall is the
 * likely cause; an asynchronous one that happens to match is a false lead, which the advice says.
 */
export function eventLoopCheck(
  inputs: RecommendationInputs,
  settings: RecommendSettings,
): Recommendation[] {
  const loop = inputs.eventLoop;
  if (loop === undefined || loop === null) return [];
  const stallMs = Math.max(loop.delayMaxMs, loop.delayP99Ms);
  if (stallMs < settings.blockedLoopMs) return [];
  const suspects = (inputs.operations ?? [])
    .filter(
      (op): op is OperationFigures & { maxMs: number } =>
        op.maxMs !== null &&
        op.maxMs >= STALL_MATCH.low * stallMs &&
        op.maxMs <= STALL_MATCH.high * stallMs,
    )
    .sort((a, b) => Math.abs(Math.log(a.maxMs / stallMs)) - Math.abs(Math.log(b.maxMs / stallMs)))
    .slice(0, STALL_SUSPECTS);
  return suspects.map((op) => {
    const labels = labelText(op.labels);
    return {
      id: `event-loop-blocker:${op.operation}${labels === '' ? '' : ` ${labels}`}`,
      kind: 'event-loop-blocker',
      severity: 'warning',
      title: `${op.operation} may be blocking the event loop (stall of ${Math.round(stallMs)} ms, call of ${Math.round(op.maxMs)} ms)`,
      advice:
        'If it runs synchronously (large JSON, crypto, compression, regular expressions, sync file system calls), move the work to a worker thread or a background task, or split it and yield between the parts. If it is asynchronous, its duration only matches the stall by chance.',
      evidence: {
        operation: op.operation,
        ...(labels === '' ? {} : { labels }),
        maxMs: round(op.maxMs),
        ...(op.p99Ms === null ? {} : { p99Ms: round(op.p99Ms) }),
        loopDelayMaxMs: round(loop.delayMaxMs),
        loopDelayP99Ms: round(loop.delayP99Ms),
        loopUtilization: round(loop.utilization, 3),
      },
    };
  });
}

/**
 * The operation ranked first by total time now, with since when it has been (carried over from
 * the history when it was already first), or `undefined` when the first one's share is too small.
 */
export function leaderOf(
  inputs: RecommendationInputs,
  settings: RecommendSettings,
): { key: string; since: number } | undefined {
  const first = inputs.bottlenecks?.[0];
  if (first === undefined || first.share < settings.leaderShare) return undefined;
  const key = `${first.operation} ${labelText(first.labels)}`.trim();
  const previous = inputs.history?.leader;
  return { key, since: previous?.key === key ? previous.since : inputs.at };
}

/** The operation that has taken the largest share of time for a long time. */
export function persistentBottleneckCheck(
  inputs: RecommendationInputs,
  settings: RecommendSettings,
): Recommendation[] {
  const leader = leaderOf(inputs, settings);
  const first = inputs.bottlenecks?.[0];
  if (leader === undefined || first === undefined) return [];
  const forMs = inputs.at - leader.since;
  if (forMs < settings.leaderForMs) return [];
  const labels = labelText(first.labels);
  return [
    {
      id: `persistent-bottleneck:${leader.key}`,
      kind: 'persistent-bottleneck',
      severity: 'info',
      title: `${first.operation} has taken the largest share of time (${percent(first.share)}) for ${Math.round(forMs / 60_000)} min`,
      advice:
        'Start optimizing here: profile it, cache its result if it is read more than it changes, or move it off the request path into a background task.',
      evidence: {
        operation: first.operation,
        ...(labels === '' ? {} : { labels }),
        share: round(first.share, 3),
        totalMs: round(first.totalMs),
        leadingForMs: Math.round(forMs),
      },
    },
  ];
}

function labelText(labels: Readonly<Record<string, string>>): string {
  return Object.entries(labels)
    .map(([name, value]) => `${name}=${value}`)
    .join(',');
}
