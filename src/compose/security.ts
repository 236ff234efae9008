// How an instance builds its security module: the instance's Redis, clock, logger and Prometheus
// prefix, and the performance monitor's system metrics for the pressure that tightens limits.
import { provideService } from '../core/module-services.js';
import { registerModule } from '../enterprise.js';
import {
  compileMiddlewareSecurity,
  MIDDLEWARE_SECURITY_SERVICE,
} from '../security/middleware-option.js';
import { invalid } from '../security/options.js';
import { securityMetricFamilies } from '../security/report.js';
import { Security } from '../security/security.js';

// The adapters' middleware checks its `security` option with the module's own rules, and only
// where an entry including the module was loaded.
provideService(MIDDLEWARE_SECURITY_SERVICE, compileMiddlewareSecurity);

registerModule('security', {
  validate(_enterprise, options) {
    const security = options.security;
    if (security === undefined || security === false) return;
    if (security === null || typeof security !== 'object') {
      throw invalid('options', security, 'security options or false');
    }
    // A trial build without Redis names a bad option at creation, not at start(); it opens
    // nothing and starts no timer.
    const { redis: _redis, redisUrl: _url, ...local } = security;
    const stores = (store: unknown) => (typeof store === 'object' ? store : 'memory') as 'memory';
    void new Security({
      ...local,
      bans: { ...local.bans, store: stores(local.bans?.store) },
      rateLimit: { ...local.rateLimit, store: stores(local.rateLimit?.store) },
    }).close();
  },
  build(enterprise, options) {
    const settings = options.security === false ? {} : (options.security ?? {});
    return new Security({
      ...settings,
      redisUrl:
        settings.redisUrl ??
        (settings.redis === undefined ? enterprise.config.redisUrl : undefined),
      logger: settings.logger ?? enterprise.logger.child({ module: 'security' }),
      clock: settings.clock ?? enterprise.config.clock,
      system: settings.system ?? (() => enterprise.performance.system()),
    });
  },
  start: (security) => security.start(),
  stop: (security) => security.close(),
  buildAtStart: (options) => options.security !== undefined && options.security !== false,
  metrics: (prefix, security) => securityMetricFamilies(prefix, security),
});
