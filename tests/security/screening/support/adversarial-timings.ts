// Times the screener on 8 KB adversarial requests, in a process of its own (plain Node ESM, as
// the package runs: the test runner's module wrapper slows cross-module calls). Prints JSON:
// { "<unit> <placement>": median CPU microseconds }. Used by adversarial.test.ts.
import { createScreener } from '../../../../src/security/screening/index.js';
import type { ScreenedRequest } from '../../../../src/security/types.js';
import { ADVERSARIAL_UNITS, adversarialRequests, cpuMicros } from './adversarial.js';

const screener = createScreener();
// One pass over everything first, so that the first cases are not timed with a cold compiler.
for (const unit of ADVERSARIAL_UNITS) {
  for (const [, request] of adversarialRequests(unit)) {
    for (let i = 0; i < 20; i++) screener.screen(request as ScreenedRequest, 'c');
  }
}
const results: Record<string, number> = {};
for (const unit of ADVERSARIAL_UNITS) {
  for (const [placement, request] of adversarialRequests(unit)) {
    results[`${unit} ${placement}`] = cpuMicros(() =>
      screener.screen(request as ScreenedRequest, 'c'),
    );
  }
}
process.stdout.write(JSON.stringify(results));
