// How an instance builds its alerts: the engine, the value sources of the modules it has, the
// built-in rules, and delivery through the task module when this process uses it.
import { Alerts } from '../alerts/alerts.js';
import { type BuiltinRulesOptions, builtinRules } from '../alerts/builtin-rules.js';
import { recommendationInputs } from '../alerts/recommendation-inputs.js';
import { breakerSources } from '../alerts/sources/breakers.js';
import { cacheSources } from '../alerts/sources/cache.js';
import { healthSources } from '../alerts/sources/health.js';
import { performanceSources } from '../alerts/sources/performance.js';
import { securitySources } from '../alerts/sources/security.js';
import { taskSources } from '../alerts/sources/tasks.js';
import type { AlertNotification, ValueSource } from '../alerts/types.js';
import {
  type Enterprise,
  type EnterpriseOptions,
  isModuleLoaded,
  registerModule,
} from '../enterprise.js';
import { HealthChecker } from '../monitoring/health.js';
import { TasksSource } from '../monitoring/tasks-source.js';
import { defaultBreakerRegistry } from '../resilience/breaker-registry.js';
import type { TaskDefinitionOptions } from '../tasks/api-types.js';
import type { TaskManager } from '../tasks/manager.js';
import { alertHistoryReader } from './alert-history.js';

/** The task that delivers one notification on one channel, retried and then dead-lettered. */
export const ALERT_DELIVERY_TASK = 'enterprise.alerts.deliver';

interface DeliveryPayload {
  channel: string;
  notification: AlertNotification;
}

// Task managers that already run the delivery handler, so it is registered once per manager.
const registered = new WeakSet<TaskManager>();

function serveDeliveries(
  tasks: TaskManager,
  alerts: Alerts,
  options: TaskDefinitionOptions | undefined,
): void {
  if (registered.has(tasks)) return;
  registered.add(tasks);
  tasks.register(
    ALERT_DELIVERY_TASK,
    (payload) => {
      const { channel, notification } = payload as DeliveryPayload;
      return alerts.send(channel, notification);
    },
    { maxRetries: 5, backoff: 'exponential', ...options },
  );
}

/** Sources that read a module only once it is built: before that they have no series. */
function whenBuilt(sources: ValueSource[], built: () => boolean): ValueSource[] {
  return sources.map((source) => ({ ...source, read: () => (built() ? source.read() : []) }));
}

function sourcesOf(enterprise: Enterprise): ValueSource[] {
  const clock = enterprise.config.clock;
  const cache = () => enterprise.peek('cache');
  const tasks = () => enterprise.peek('tasks');
  const health = new HealthChecker(enterprise, new TasksSource(enterprise));
  return [
    ...performanceSources(enterprise.performance, { clock }),
    ...whenBuilt(
      cacheSources(
        { analytics: () => (cache() as NonNullable<ReturnType<typeof cache>>).analytics() },
        { clock },
      ),
      () => cache() !== undefined,
    ),
    ...whenBuilt(
      taskSources({ stats: () => (tasks() as TaskManager).stats() }, { clock }),
      () => tasks() !== undefined,
    ),
    // A breaker's component (`breaker:<name>`) has CircuitBreakerOpen, the security module's
    // SecurityStoreDown: HealthComponentDegraded leaves them out.
    ...healthSources(() => health.check(), {
      degradedExcept: (component) => component.startsWith('breaker:') || component === 'security',
    }),
    ...breakerSources({
      list: () => {
        const registry = defaultBreakerRegistry();
        return registry.list().map((breaker) => ({
          name: breaker.name,
          state: breaker.state,
          opens: registry.opens(breaker.name),
        }));
      },
    }),
    ...(isModuleLoaded('security') ? securityScoreSources(enterprise) : []),
  ];
}

/** The security score, read from the module once built (the module knows nothing of alerts). */
function securityScoreSources(enterprise: Enterprise): ValueSource[] {
  const security = () => enterprise.peek('security');
  return whenBuilt(
    securitySources({
      score: () => (security() as NonNullable<ReturnType<typeof security>>).score(),
    }),
    () => security() !== undefined,
  );
}

/** The threshold of `SecurityScoreLow`: the rule's own, else the security module's. */
function scoreRule(options: EnterpriseOptions, builtin: BuiltinRulesOptions | undefined) {
  const tuning = builtin?.securityScoreLow;
  if (tuning === false) return false;
  const threshold = options.security === false ? undefined : options.security?.score?.threshold;
  return {
    ...(threshold === undefined ? {} : { threshold }),
    ...(typeof tuning === 'object' ? tuning : {}),
  };
}

registerModule('alerts', {
  build(enterprise, options) {
    const settings = options.alerts === false ? {} : (options.alerts ?? {});
    const { builtin, delivery, ...engine } = settings;
    const sources = [...sourcesOf(enterprise), ...(engine.sources ?? [])];
    const rules =
      options.alerts === false || builtin === false
        ? []
        : builtinRules({
            alertThresholdMs: enterprise.performance.thresholdMs,
            ...builtin,
            securityScoreLow: scoreRule(options, builtin),
            sources: sources.map((source) => source.name),
          });
    const alerts: Alerts = new Alerts({
      ...engine,
      sources,
      rules: [...rules, ...(engine.rules ?? [])],
      redisUrl:
        engine.redisUrl ?? (engine.redis === undefined ? enterprise.config.redisUrl : undefined),
      logger: engine.logger ?? enterprise.logger.child({ module: 'alerts' }),
      clock: engine.clock ?? enterprise.config.clock,
      // The metrics history, when the instance keeps one, seeds the learning rules at start.
      history: engine.history ?? alertHistoryReader(() => enterprise.peek('history')?.store),
      recommendationInputs:
        engine.recommendationInputs ??
        (() =>
          recommendationInputs(
            {
              performance: enterprise.performance,
              cache: enterprise.peek('cache'),
              tasks: enterprise.peek('tasks'),
            },
            { now: () => enterprise.config.clock.epochNow() },
          )),
      // Through the task module when this process uses it (a delivery then survives a restart and
      // ends in the dead letter queue when the channel keeps failing); sent directly otherwise.
      deliver:
        engine.deliver ??
        ((channel, notification) => {
          const tasks = enterprise.peek('tasks');
          if (tasks === undefined) return alerts.send(channel, notification);
          serveDeliveries(tasks, alerts, delivery);
          // The id makes a re-sent hand-over (the same notification for the same channel) one task.
          return tasks
            .submit(ALERT_DELIVERY_TASK, { channel, notification } as never, {
              id: `${notification.id}:${channel}`,
            })
            .then(() => undefined);
        }),
    });
    const tasks = enterprise.peek('tasks');
    if (tasks !== undefined) serveDeliveries(tasks, alerts, delivery);
    return alerts;
  },
  start: (alerts) => {
    alerts.start();
    return undefined;
  },
  stop: (alerts) => alerts.close(),
  buildAtStart: (options) => options.alerts !== false,
  // The engine names its families with the default prefix; the instance's prefix replaces it.
  metrics: (prefix, alerts) =>
    (alerts?.metricFamilies() ?? []).map((family) => ({
      ...family,
      name: family.name.replace(/^enterprise_/, prefix),
      samples: family.samples.map((sample) => ({
        ...sample,
        name: sample.name.replace(/^enterprise_/, prefix),
      })),
    })),
  sibling(enterprise, name, options) {
    const alerts = enterprise.peek('alerts');
    if (name !== 'tasks' || alerts === undefined) return;
    const delivery = options.alerts === false ? undefined : options.alerts?.delivery;
    serveDeliveries(enterprise.tasks, alerts, delivery);
  },
});
