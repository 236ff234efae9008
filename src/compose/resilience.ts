// How an instance exports the circuit breakers: the process registry's breakers (the
// application's and the cache tiers') as Prometheus families beside the instance's own.
import { registerProcessCollector } from '../enterprise.js';
import { defaultBreakerRegistry } from '../resilience/breaker-registry.js';

registerProcessCollector('circuit-breakers', (prefix) => defaultBreakerRegistry().metrics(prefix));
