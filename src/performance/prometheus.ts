import type { SystemMetricsSnapshot } from './types.js';

/** @internal What the renderer reads from a monitor. */
export interface PrometheusInput {
  prefix: string;
  bucketsSeconds: readonly number[];
  series: {
    name: string;
    labels: Record<string, string>;
    /** Non-cumulative counts per bucket, the last one for +Inf. */
    bucketCounts: Float64Array;
    count: number;
    errors: number;
    slow: number;
    sumMs: number;
  }[];
  maxMetrics: number;
  /** Name of the series that counts calls beyond the cap; it is not a tracked operation. */
  overflowName: string;
  system: SystemMetricsSnapshot | undefined;
  /** Families contributed by other modules (the cache, the task runner) through collectors. */
  extra: MetricFamily[];
}

/**
 * One metric family: a name, its help text, its type and its samples. Collectors added with
 * `PerformanceMonitor.addCollector` return these; both the text exposition and the prom-client
 * bridge render them.
 */
export interface MetricFamily {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'histogram';
  samples: { name: string; labels: Record<string, string>; value: number }[];
}

/**
 * @internal Builds the metric families. Durations are exported in seconds and as a histogram, so
 * they can be aggregated across instances (`histogram_quantile(0.99, sum by (le) (rate(...)))`).
 */
export function metricFamilies(input: PrometheusInput): MetricFamily[] {
  const p = input.prefix;
  const duration: MetricFamily = {
    name: `${p}operation_duration_seconds`,
    help: 'Duration of monitored operations in seconds.',
    type: 'histogram',
    samples: [],
  };
  const errors: MetricFamily = {
    name: `${p}operation_errors_total`,
    help: 'Monitored calls that threw or rejected.',
    type: 'counter',
    samples: [],
  };
  const slow: MetricFamily = {
    name: `${p}operation_slow_calls_total`,
    help: 'Monitored calls slower than their threshold.',
    type: 'counter',
    samples: [],
  };
  for (const series of input.series) {
    const labels = { operation: series.name, ...series.labels };
    let cumulative = 0;
    input.bucketsSeconds.forEach((bound, i) => {
      cumulative += series.bucketCounts[i]!;
      duration.samples.push({
        name: `${duration.name}_bucket`,
        labels: { ...labels, le: formatNumber(bound) },
        value: cumulative,
      });
    });
    duration.samples.push(
      { name: `${duration.name}_bucket`, labels: { ...labels, le: '+Inf' }, value: series.count },
      { name: `${duration.name}_sum`, labels, value: series.sumMs / 1000 },
      { name: `${duration.name}_count`, labels, value: series.count },
    );
    errors.samples.push({ name: errors.name, labels, value: series.errors });
    slow.samples.push({ name: slow.name, labels, value: series.slow });
  }
  const families = [
    duration,
    errors,
    slow,
    gauge(
      `${p}operations_tracked`,
      'Operations (name and label set) currently tracked, the overflow series excluded.',
      input.series.filter((s) => s.name !== input.overflowName).length,
    ),
    gauge(
      `${p}operations_tracked_max`,
      'Most operations tracked at once (PERFORMANCE_MAX_METRICS).',
      input.maxMetrics,
    ),
  ];
  const system = input.system;
  if (system !== undefined) {
    families.push(
      {
        name: `${p}process_cpu_seconds_total`,
        help: 'User and system CPU time spent by the process in seconds.',
        type: 'counter',
        samples: [
          {
            name: `${p}process_cpu_seconds_total`,
            labels: { mode: 'user' },
            value: system.cpu.userSeconds,
          },
          {
            name: `${p}process_cpu_seconds_total`,
            labels: { mode: 'system' },
            value: system.cpu.systemSeconds,
          },
        ],
      },
      gauge(`${p}process_resident_memory_bytes`, 'Resident set size in bytes.', system.memory.rss),
      gauge(`${p}nodejs_heap_used_bytes`, 'V8 heap in use in bytes.', system.memory.heapUsed),
      gauge(`${p}nodejs_heap_total_bytes`, 'V8 heap reserved in bytes.', system.memory.heapTotal),
      gauge(
        `${p}nodejs_external_memory_bytes`,
        'Memory of C++ objects bound to JavaScript in bytes.',
        system.memory.external,
      ),
      gauge(
        `${p}nodejs_eventloop_delay_p50_seconds`,
        'Median event-loop delay over the last sample in seconds.',
        system.eventLoop.delayP50Ms / 1000,
      ),
      gauge(
        `${p}nodejs_eventloop_delay_p99_seconds`,
        '99th percentile event-loop delay over the last sample in seconds.',
        system.eventLoop.delayP99Ms / 1000,
      ),
      gauge(
        `${p}nodejs_eventloop_delay_max_seconds`,
        'Longest event-loop delay over the last sample in seconds.',
        system.eventLoop.delayMaxMs / 1000,
      ),
      gauge(
        `${p}nodejs_eventloop_utilization_ratio`,
        'Fraction of time the event loop was busy over the last sample.',
        system.eventLoop.utilization,
      ),
      {
        name: `${p}nodejs_gc_runs_total`,
        help: 'Garbage collections by kind.',
        type: 'counter',
        samples: Object.entries(system.gc.byKind).map(([kind, v]) => ({
          name: `${p}nodejs_gc_runs_total`,
          labels: { kind },
          value: v.count,
        })),
      },
      {
        name: `${p}nodejs_gc_pause_seconds_total`,
        help: 'Time spent in garbage collection pauses by kind in seconds.',
        type: 'counter',
        samples: Object.entries(system.gc.byKind).map(([kind, v]) => ({
          name: `${p}nodejs_gc_pause_seconds_total`,
          labels: { kind },
          value: v.totalMs / 1000,
        })),
      },
    );
  }
  families.push(...input.extra);
  return families;
}

function gauge(name: string, help: string, value: number): MetricFamily {
  return { name, help, type: 'gauge', samples: [{ name, labels: {}, value }] };
}

/**
 * @internal Renders the text exposition format 0.0.4. Families without samples still get their
 * HELP and TYPE lines, so dashboards can discover them before the first call.
 */
export function renderPrometheus(input: PrometheusInput): string {
  let out = '';
  for (const family of metricFamilies(input)) {
    out += `# HELP ${family.name} ${escapeHelp(family.help)}\n# TYPE ${family.name} ${family.type}\n`;
    for (const sample of family.samples) {
      out += `${sample.name}${renderLabels(sample.labels)} ${formatNumber(sample.value)}\n`;
    }
  }
  return out;
}

function renderLabels(labels: Record<string, string>): string {
  let out = '';
  for (const key in labels) {
    out += `${out === '' ? '' : ','}${key}="${escapeLabel(labels[key]!)}"`;
  }
  return out === '' ? '' : `{${out}}`;
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function escapeHelp(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function formatNumber(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(value);
}
