export { Breaker } from './breaker.js';
export { BreakerEmitter } from './breaker-emitter.js';
export type {
  CircuitBreakerOptions,
  ErrorRatePolicy,
} from './breaker-options.js';
export {
  BreakerRegistry,
  type BreakerRegistryEvents,
  type BreakerStateChange,
  defaultBreakerRegistry,
} from './breaker-registry.js';
export type {
  BreakerCounts,
  BreakerEvents,
  BreakerSnapshot,
  BreakerState,
  CloseReason,
  ListedBreaker,
  OpenReason,
} from './breaker-types.js';
export { circuitBreaker } from './circuit-breaker.js';
export {
  type AsyncMethodDecorator,
  CircuitBreaker,
  type CircuitBreakerSpec,
  withCircuitBreaker,
} from './decorator.js';
export { health } from './default-health.js';
export { CircuitConfigError, CircuitOpenError, CircuitTimeoutError } from './errors.js';
export {
  type HealthCheck,
  type HealthCheckOptions,
  type HealthCheckResult,
  type HealthComponent,
  type HealthProbe,
  type HealthProbeContext,
  HealthRegistry,
  type HealthRegistryOptions,
  type HealthReport,
  type HealthStatus,
  type Readiness,
  statusRank,
  TIMED_OUT,
} from './health-registry.js';
