import {
  createHistogram,
  type EventLoopUtilization,
  PerformanceObserver,
  performance,
  type RecordableHistogram,
} from 'node:perf_hooks';
import type { SystemMetricsSnapshot } from './types.js';

/** How often the event-loop delay probe expects to run, in milliseconds. */
const PROBE_MS = 10;

const GC_KINDS: Record<number, string> = {
  1: 'scavenge',
  2: 'mark_compact',
  4: 'incremental',
  8: 'weakcb',
};

/**
 * Samples process-wide metrics on an unref'd timer: CPU, memory, event-loop delay and utilization,
 * and GC pauses. Each sample covers the time since the previous one, so a spike shows up in the
 * next sample instead of being averaged away since start.
 *
 * @internal
 */
export class SystemMetrics {
  #timer: NodeJS.Timeout | undefined;
  #probe: NodeJS.Timeout | undefined;
  #delay: RecordableHistogram | undefined;
  #gcObserver: PerformanceObserver | undefined;
  #gcByKind: Record<string, { count: number; totalMs: number }> = {};
  #gcMaxPause = 0;
  #lastCpu = process.cpuUsage();
  #lastCpuAt = performance.now();
  #lastElu: EventLoopUtilization = performance.eventLoopUtilization();
  #latest: SystemMetricsSnapshot | undefined;
  #latestAt = 0;

  constructor(
    private readonly intervalMs: number,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Whether the sampler is running. */
  get running(): boolean {
    return this.#timer !== undefined;
  }

  /** Starts sampling. Idempotent. */
  start(): void {
    if (this.#timer !== undefined) return;
    // Node's monitorEventLoopDelay() forgets its last tick on reset(), so a stall that begins right
    // after a sample would be lost. This probe keeps its own last-tick time; only the histogram
    // is reset between samples.
    const delay = createHistogram();
    this.#delay = delay;
    let last = performance.now();
    this.#probe = setInterval(() => {
      const now = performance.now();
      const lateNs = Math.round((now - last - PROBE_MS) * 1e6);
      delay.record(Math.max(1, lateNs));
      last = now;
    }, PROBE_MS);
    this.#probe.unref();
    try {
      this.#gcObserver = new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) {
          const detail = (entry as { detail?: { kind?: number } }).detail;
          const kind = GC_KINDS[detail?.kind ?? 0] ?? 'other';
          const slot = (this.#gcByKind[kind] ??= { count: 0, totalMs: 0 });
          slot.count++;
          slot.totalMs += entry.duration;
          if (entry.duration > this.#gcMaxPause) this.#gcMaxPause = entry.duration;
        }
      });
      this.#gcObserver.observe({ entryTypes: ['gc'] });
    } catch (error) {
      this.onError(error);
    }
    this.#resetBaselines();
    this.#timer = setInterval(() => {
      try {
        this.sample();
      } catch (error) {
        this.onError(error);
      }
    }, this.intervalMs);
    this.#timer.unref();
  }

  /** Stops sampling and releases the observers. Idempotent. */
  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    if (this.#probe !== undefined) clearInterval(this.#probe);
    this.#probe = undefined;
    this.#delay = undefined;
    this.#gcObserver?.disconnect();
    this.#gcObserver = undefined;
  }

  /**
   * The latest sample. While the sampler is not running (before `start()`, after `shutdown()`),
   * a sample is taken on read, at most once a second, so the figures never freeze.
   */
  snapshot(): SystemMetricsSnapshot {
    const latest = this.#latest;
    if (latest !== undefined && (this.running || performance.now() - this.#latestAt < 1_000)) {
      return latest;
    }
    return this.sample();
  }

  /** Takes a sample covering the time since the previous one. */
  sample(): SystemMetricsSnapshot {
    const now = performance.now();
    const cpu = process.cpuUsage();
    const elapsedMicros = Math.max(1, (now - this.#lastCpuAt) * 1000);
    const usedMicros = cpu.user - this.#lastCpu.user + (cpu.system - this.#lastCpu.system);
    const elu = performance.eventLoopUtilization(this.#lastElu);
    const memory = process.memoryUsage();
    const delay = this.#delay;
    const ms = (ns: number) => (Number.isFinite(ns) && ns > 0 ? ns / 1e6 : 0);
    const snapshot: SystemMetricsSnapshot = {
      sampledAt: new Date().toISOString(),
      cpu: {
        percent: (usedMicros / elapsedMicros) * 100,
        userSeconds: cpu.user / 1e6,
        systemSeconds: cpu.system / 1e6,
      },
      memory: {
        rss: memory.rss,
        heapUsed: memory.heapUsed,
        heapTotal: memory.heapTotal,
        external: memory.external,
        arrayBuffers: memory.arrayBuffers,
      },
      eventLoop: {
        delayP50Ms: delay && delay.count > 0 ? ms(delay.percentile(50)) : 0,
        delayP99Ms: delay && delay.count > 0 ? ms(delay.percentile(99)) : 0,
        delayMaxMs: delay && delay.count > 0 ? ms(delay.max) : 0,
        utilization: Number.isFinite(elu.utilization) ? elu.utilization : 0,
      },
      gc: {
        byKind: structuredClone(this.#gcByKind),
        maxPauseMs: this.#gcMaxPause,
      },
    };
    this.#resetBaselines();
    this.#latest = snapshot;
    this.#latestAt = now;
    return snapshot;
  }

  #resetBaselines(): void {
    this.#lastCpu = process.cpuUsage();
    this.#lastCpuAt = performance.now();
    this.#lastElu = performance.eventLoopUtilization();
    this.#delay?.reset();
    this.#gcMaxPause = 0;
  }
}
