import { afterAll } from 'vitest';
import { getEnterprise } from '../../src/index.js';
import { describeBackgroundTasks } from '../support/background-task-suite.js';

// The same behaviour is checked under experimentalDecorators by tests/legacy/background-task.test.ts.
describeBackgroundTasks('standard');

afterAll(async () => {
  await getEnterprise().shutdown();
});
