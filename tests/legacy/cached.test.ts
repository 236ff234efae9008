import { afterAll } from 'vitest';
import { getEnterprise } from '../../src/index.js';
import { describeCacheDecorators } from '../support/cached-suite.js';

// The same behaviour is checked under standard decorators by tests/cache/cached.test.ts.
describeCacheDecorators('legacy');

afterAll(async () => {
  await getEnterprise().shutdown();
});
