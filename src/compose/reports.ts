// How an instance builds its capacity planner and its reports: the history, analytics and
// capacity they read, the alerts and security sections and the alert channels when those modules
// are loaded, and scheduled runs as tasks when the task module is. Only type imports of those
// modules: the analytics entry loads none of their code.
import { totalmem } from 'node:os';
import { getHeapStatistics } from 'node:v8';
import { CapacityConfigError } from '../analytics/capacity/errors.js';
import { CapacityPlanner } from '../analytics/capacity/planner.js';
import type { CapacityLimit } from '../analytics/capacity/types.js';
import type { CapacityModuleOptions, ReportsModuleOptions } from '../analytics/module-options.js';
import { ReportConfigError } from '../analytics/reports/errors.js';
import { Reports } from '../analytics/reports/reports.js';
import type { ReportScheduler, ReportSection } from '../analytics/reports/types.js';
import { provideService } from '../core/module-services.js';
import {
  type Enterprise,
  type EnterpriseOptions,
  isModuleLoaded,
  registerModule,
} from '../enterprise.js';
import type { TaskManager } from '../tasks/manager.js';
import { alertsReportSection, securityReportSection } from './report-sections.js';

/** The task a scheduled report runs as: `{ name }`, generated and delivered by the worker. */
export const REPORT_TASK = 'enterprise.reports.run';

const capacityOf = (options: EnterpriseOptions): CapacityModuleOptions => {
  const analytics = options.analytics;
  if (analytics === undefined || analytics === false) return {};
  const capacity = analytics.capacity;
  return capacity === undefined || capacity === false ? {} : capacity;
};

const reportsOf = (options: EnterpriseOptions): ReportsModuleOptions =>
  options.reports === undefined || options.reports === false ? {} : options.reports;

/** The resources watched by default: memory, the event loop and every task queue. */
function defaultLimits(settings: CapacityModuleOptions): CapacityLimit[] {
  return [
    {
      metric: 'system.memory.heap_used',
      name: 'heap used',
      unit: 'bytes',
      limit: settings.heapLimit ?? (() => getHeapStatistics().heap_size_limit),
    },
    {
      metric: 'system.memory.rss',
      name: 'rss',
      unit: 'bytes',
      limit: settings.memoryLimit ?? totalmem(),
    },
    {
      metric: 'system.event_loop.delay_p99_ms',
      name: 'event loop delay p99',
      unit: 'ms',
      limit: settings.eventLoopDelayLimitMs ?? 200,
      use: 'max',
    },
    {
      metric: 'system.event_loop.utilization',
      name: 'event loop utilisation',
      unit: 'ratio',
      limit: 0.9,
    },
    {
      metric: 'tasks.queue.waiting',
      name: 'queue depth',
      unit: 'tasks',
      limit: settings.queueLimit ?? 10_000,
      use: 'max',
    },
  ];
}

function buildPlanner(enterprise: Enterprise, options: EnterpriseOptions): CapacityPlanner {
  const settings = capacityOf(options);
  for (const field of [
    'memoryLimit',
    'heapLimit',
    'eventLoopDelayLimitMs',
    'queueLimit',
  ] as const) {
    const value = settings[field];
    if (
      value !== undefined &&
      !(typeof value === 'number' && Number.isFinite(value) && value > 0)
    ) {
      throw new CapacityConfigError(field, value, 'a positive number');
    }
  }
  return new CapacityPlanner({
    history: () => enterprise.peek('history'),
    limits: [
      ...(settings.defaults === false ? [] : defaultLimits(settings)),
      ...(settings.limits ?? []),
    ],
    ...(settings.lookback === undefined ? {} : { lookback: settings.lookback }),
    ...(settings.horizon === undefined ? {} : { horizon: settings.horizon }),
    ...(settings.confidence === undefined ? {} : { confidence: settings.confidence }),
    clock: enterprise.config.clock,
  });
}

registerModule('capacity', {
  validate(enterprise, options) {
    if (
      options.analytics !== undefined &&
      options.analytics !== false &&
      options.analytics.capacity !== undefined
    ) {
      void buildPlanner(enterprise, options);
    }
  },
  build: buildPlanner,
  start: () => undefined,
  stop: () => undefined,
  buildAtStart: (options) =>
    options.analytics !== undefined &&
    options.analytics !== false &&
    options.analytics.history !== false &&
    options.analytics.capacity !== false,
});

// Task managers that already run the report task, so it is registered once per manager.
const serving = new WeakMap<TaskManager, { reports: Reports | undefined }>();

/** Schedules reports as tasks: one task per slot across every process, run by any worker. */
function taskScheduler(
  enterprise: Enterprise,
  holder: { reports: Reports | undefined },
  queue: string | undefined,
): ReportScheduler {
  const tasks = (): TaskManager => {
    const manager = enterprise.tasks;
    let served = serving.get(manager);
    if (served === undefined) {
      served = holder;
      serving.set(manager, served);
      manager.register(
        REPORT_TASK,
        async (payload) => {
          const reports = served!.reports;
          if (reports === undefined)
            throw new Error('the reports module of this instance is not built');
          return reports.run((payload as { name: string }).name);
        },
        // A run that failed half-way is not retried: its deliveries may have gone out already.
        { maxRetries: 0, ...(queue === undefined ? {} : { queue }) },
      );
    }
    return manager;
  };
  return {
    schedule(report, cron, timezone) {
      tasks().scheduler.schedulePeriodic(
        cron,
        `${REPORT_TASK}:${report}`,
        REPORT_TASK,
        { name: report },
        {
          catchUp: false,
          maxRetries: 0,
          ...(timezone === undefined ? {} : { timezone }),
          ...(queue === undefined ? {} : { queue }),
        },
      );
    },
    unschedule(report) {
      enterprise.peek('tasks')?.scheduler.unschedule(`${REPORT_TASK}:${report}`);
    },
  };
}

function extraSections(enterprise: Enterprise): ReportSection[] {
  return [
    ...(isModuleLoaded('alerts') ? [alertsReportSection(() => enterprise.peek('alerts'))] : []),
    ...(isModuleLoaded('security')
      ? [securityReportSection(() => enterprise.peek('security'))]
      : []),
  ];
}

registerModule('reports', {
  validate(_enterprise, options) {
    const reports = options.reports;
    if (reports === undefined || reports === false) return;
    if (reports === null || typeof reports !== 'object') {
      throw new ReportConfigError('*', 'reports', reports, 'reports options or false');
    }
    // The definitions are checked at creation, without scheduling or delivering anything: a
    // trial object with the same sections, and a scheduler and channels that do nothing.
    const trial = new Reports({
      sections: [
        ...(isModuleLoaded('alerts') ? [alertsReportSection(() => undefined)] : []),
        ...(isModuleLoaded('security') ? [securityReportSection(() => undefined)] : []),
        ...(reports.sections ?? []),
      ],
      ...(isModuleLoaded('alerts') ? { delivery: { send: async () => undefined } } : {}),
      ...(isModuleLoaded('tasks')
        ? { scheduler: { schedule: () => undefined, unschedule: () => undefined } }
        : {}),
      ...(reports.sectionTimeout === undefined ? {} : { sectionTimeout: reports.sectionTimeout }),
      definitions: reports.definitions ?? {},
    });
    void trial.close();
  },
  build(enterprise, options) {
    const settings = reportsOf(options);
    const holder: { reports: Reports | undefined } = { reports: undefined };
    const reports = new Reports({
      history: () => enterprise.peek('history'),
      analytics: () => enterprise.peek('analytics'),
      capacity: () =>
        enterprise.peek('capacity') ??
        (enterprise.peek('history') === undefined ? undefined : enterprise.capacity),
      sections: [...extraSections(enterprise), ...(settings.sections ?? [])],
      ...(isModuleLoaded('alerts')
        ? {
            delivery: {
              send: (channel, message) => enterprise.alerts.sendDocument(channel, message),
            },
          }
        : {}),
      ...(isModuleLoaded('tasks')
        ? { scheduler: taskScheduler(enterprise, holder, settings.queue) }
        : {}),
      ...(settings.sectionTimeout === undefined ? {} : { sectionTimeout: settings.sectionTimeout }),
      definitions: settings.definitions ?? {},
      clock: enterprise.config.clock,
      logger: enterprise.logger,
    });
    holder.reports = reports;
    return reports;
  },
  start: () => undefined,
  stop: (reports) => reports.close(),
  buildAtStart: (options) => options.reports !== undefined && options.reports !== false,
});

// `generate_analytics_report` of the maintenance module runs the instance's reports (the key is
// MAINTENANCE_REPORTS_SERVICE of compose/maintenance.ts, written out so this entry does not load
// the maintenance module).
provideService('maintenance.reports', (enterprise: Enterprise) => enterprise.reports);
