// The `@revcopy/enterprise/monitoring` entry: the monitoring module, and the composition it needs to build the
// default instance without loading the modules it leaves out.
import '../enterprise.js';

export * from '../monitoring/index.js';
