import { afterAll } from 'vitest';
import { getEnterprise } from '../../src/index.js';
import { describeBackgroundTasks } from '../support/background-task-suite.js';

// The same behaviour is checked under standard decorators by tests/tasks/background-task.test.ts.
describeBackgroundTasks('legacy');

afterAll(async () => {
  await getEnterprise().shutdown();
});
