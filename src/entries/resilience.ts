// The `@revcopy/enterprise/resilience` entry: circuit breakers (the breaker, its decorator and
// function twin, the process registry) and the health-check registry, and the composition that
// exports the process's breakers in every instance's Prometheus metrics.
import '../enterprise.js';
import '../compose/resilience.js';

export * from '../resilience/index.js';
