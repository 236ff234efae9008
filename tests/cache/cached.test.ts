import { afterAll } from 'vitest';
import { getEnterprise } from '../../src/index.js';
import { describeCacheDecorators } from '../support/cached-suite.js';

// The same behaviour is checked under experimentalDecorators by tests/legacy/cached.test.ts.
describeCacheDecorators('standard');

afterAll(async () => {
  await getEnterprise().shutdown();
});
