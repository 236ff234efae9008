import { describeCircuitBreakerDecorator } from '../support/circuit-breaker-suite.js';

// The same behaviour is checked under experimentalDecorators by tests/legacy/circuit-breaker.test.ts.
describeCircuitBreakerDecorator('standard');
