// The `@revcopy/enterprise/maintenance` entry: the seven maintenance tasks, and the composition
// that builds an instance's `maintenance` (and wires it to the task engine it registers its tasks
// with, the history, the cache, the health checks and, when present, the alerts).
import '../enterprise.js';
import '../compose/tasks.js';
import '../compose/maintenance.js';

export * from '../maintenance/index.js';
