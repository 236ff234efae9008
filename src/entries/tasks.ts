// The `@revcopy/enterprise/tasks` entry: the tasks module, and the composition it needs to build the
// default instance without loading the modules it leaves out.
import '../enterprise.js';
import '../compose/tasks.js';

export * from '../tasks/index.js';
