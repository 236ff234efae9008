import { describeCircuitBreakerDecorator } from '../support/circuit-breaker-suite.js';

// The same behaviour is checked under standard decorators by tests/resilience/decorator.test.ts.
describeCircuitBreakerDecorator('legacy');
