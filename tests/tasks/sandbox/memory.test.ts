import { describeSandboxedTasks } from './suite.js';

// The memory backend is created by each instance (no backend given).
describeSandboxedTasks('memory backend', {
  make: () => undefined,
  cleanup: async () => {},
});
