import { historyNeed } from './detectors/history-need.js';
import { createDetector } from './detectors/index.js';
import type { AlertHistoryReader, AlertHistorySeries } from './history-reader.js';
import { RuleSeed } from './rule-seed.js';
import { type RuleRuntime, seriesIdentity } from './series.js';
import type { TickState } from './state.js';

const MINUTE_MS = 60_000;
/** The most series of one rule seeded from history (an operation-wide rule on a busy service). */
export const MAX_SEEDED_SERIES = 200;
/** Rules whose history is read at the same time. */
const CONCURRENCY = 4;

/**
 * @internal Seeds the detectors of `runtimes` from the metrics history: each rule whose condition
 * learns (anomaly, trend, forecast) and that watches a named source gets the span its detector
 * needs, at its step, read through `state.historyReader`. Meanwhile the rules' series buffer their
 * live readings (see {@link RuleSeed}). The reads share one deadline, `historyTimeoutMs`: a history
 * that is down or slow leaves the detectors learning live, as without one, and is logged once per
 * engine. Never rejects; a rule is seeded at most once.
 */
export async function seedRules(state: TickState, runtimes: Iterable<RuleRuntime>): Promise<void> {
  const reader = state.historyReader;
  if (reader === undefined) return;
  const queue: { runtime: RuleRuntime; source: string; spanMs: number; stepMs: number }[] = [];
  for (const runtime of runtimes) {
    const { rule } = runtime;
    if (runtime.seed !== undefined || typeof rule.watch !== 'string') continue;
    const need = historyNeed(rule.condition, rule.name);
    if (need === undefined) continue;
    runtime.seed = new RuleSeed();
    queue.push({ runtime, source: rule.watch, ...need });
  }
  if (queue.length === 0) return;
  const { clock, log } = state;
  const timeoutMs = state.options.historyTimeoutMs;
  const to = Math.floor(clock.epochNow() / MINUTE_MS) * MINUTE_MS;
  const controller = new AbortController();
  const gaveUp = new Promise<'timeout'>((resolve) => {
    controller.signal.addEventListener('abort', () => resolve('timeout'), { once: true });
  });
  const timer = setTimeout(() => controller.abort(new Error('history timeout')), timeoutMs);
  timer.unref();
  let failure: unknown;
  const started = clock.now();
  const seedOne = async (item: (typeof queue)[number]): Promise<void> => {
    const { runtime } = item;
    let past: readonly AlertHistorySeries[] | undefined;
    if (!controller.signal.aborted && state.closed !== true) {
      try {
        const answer = await Promise.race([
          read(reader, {
            source: item.source,
            ...(runtime.rule.where === undefined ? {} : { where: runtime.rule.where }),
            from: to - item.spanMs,
            to,
            stepMs: item.stepMs,
            maxSeries: MAX_SEEDED_SERIES,
            signal: controller.signal,
          }),
          gaveUp,
        ]);
        if (answer === 'timeout') failure ??= new Error(`no answer within ${timeoutMs} ms`);
        else past = answer;
      } catch (error) {
        failure ??= error;
      }
    }
    const { rule } = runtime;
    runtime.seed!.complete(
      {
        series: runtime.series.values(),
        where: rule.where,
        fingerprint: (labels) => seriesIdentity(rule, labels).fingerprint,
        create: () => createDetector(rule.condition, rule.name),
        maxSeries: MAX_SEEDED_SERIES,
      },
      past,
    );
  };
  const all = [...queue];
  const workers = Array.from({ length: Math.min(CONCURRENCY, queue.length) }, async () => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) await seedOne(item);
  });
  await Promise.all(workers);
  clearTimeout(timer);
  if (!controller.signal.aborted) controller.abort(new Error('history replay over'));
  if (failure !== undefined) {
    // A store closed under a replay at shutdown is no news.
    if (!state.historyWarned && state.closed !== true) {
      state.historyWarned = true;
      log.warn(
        { err: (failure as Error)?.message ?? String(failure) },
        'alerts: the metrics history could not be read; rules learn from live readings',
      );
    }
    return;
  }
  const seeded = all.filter((item) => (item.runtime.seed?.series ?? 0) > 0);
  if (seeded.length > 0) {
    log.debug(
      {
        rules: seeded.length,
        series: seeded.reduce((n, item) => n + item.runtime.seed!.series, 0),
        ms: clock.now() - started,
      },
      'alerts: detectors seeded from the metrics history',
    );
  }
}

/** The reader's answer; a reader that throws synchronously rejects instead. */
async function read(
  reader: AlertHistoryReader,
  request: Parameters<AlertHistoryReader['read']>[0],
): Promise<readonly AlertHistorySeries[] | undefined> {
  return reader.read(request);
}
