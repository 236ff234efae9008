// The `@revcopy/enterprise/cache` entry: the cache module, and the composition it needs to build the
// default instance without loading the modules it leaves out.
import '../enterprise.js';
import '../compose/cache.js';
import '../compose/resilience.js';

export * from '../cache/index.js';
