// The `@revcopy/enterprise/performance` entry: the performance module, and the composition it needs to build the
// default instance without loading the modules it leaves out.
import '../enterprise.js';

export * from '../performance/index.js';
