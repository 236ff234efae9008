// The `@revcopy/enterprise/resilience` entry: circuit breakers (the breaker, its decorator and
// function twin, the process registry) and the health-check registry. Nothing to compose: the
// module builds no part of an instance.
export * from '../resilience/index.js';
