// How an instance builds its task manager, and when: at start() once a handler is registered in
// this process, or on first use; otherwise it opens no backend.
import { registerModule } from '../enterprise.js';
import { TaskManager } from '../tasks/manager.js';
import { handlerRegistry } from '../tasks/registry.js';
import { resolveTaskSettings } from '../tasks/settings.js';

registerModule('tasks', {
  // Validated at creation, so a bad task option fails like every other option.
  validate: (enterprise, options) => void resolveTaskSettings(options.tasks, enterprise.config),
  build: (enterprise, options) =>
    new TaskManager({
      settings: resolveTaskSettings(options.tasks, enterprise.config),
      logger: enterprise.logger.child({ module: 'tasks' }),
      performance: enterprise.performance,
      clock: enterprise.config.clock,
      prefix: enterprise.config.performance.prometheusPrefix,
    }),
  start: (tasks, _enterprise, options) => tasks.start(options),
  stop: (tasks, deadline) => tasks.stop(deadline),
  buildAtStart: () => handlerRegistry().definitions.size > 0,
  // A handler registered after start() (a module imported later) builds and starts it then.
  waitForUse(enterprise) {
    const listeners = handlerRegistry().listeners;
    const onFirstHandler = () => {
      listeners.delete(onFirstHandler);
      if (enterprise.state === 'started' || enterprise.state === 'starting') enterprise.tasks;
    };
    listeners.add(onFirstHandler);
    return () => listeners.delete(onFirstHandler);
  },
  // Declared once the task module is in use, so an instance without tasks exposes none of them.
  metrics: (_prefix, tasks) => tasks?.metricFamilies() ?? [],
});
