// The `@revcopy/enterprise/alerts` entry: the alerts module, its channels and sources, and the
// composition it needs to build the default instance's alerts.
import '../enterprise.js';
import '../compose/alerts.js';

export * from '../alerts/index.js';
