// Times the screener on 8 KB adversarial requests, in a process of its own (plain Node ESM, as
// the package runs: the test runner's module wrapper slows cross-module calls). Prints JSON:
// { "<unit> <placement>": median CPU microseconds }. Used by adversarial.test.ts.
//
// Three passes over all cases, and each case keeps its best median: other processes on the
// machine (the test runner's among them) slow one pass or another, not the code.
import { createScreener } from '../../../../src/security/screening/index.js';
import { ADVERSARIAL_UNITS, adversarialRequests, cpuMicros } from './adversarial.js';

const screener = createScreener();
const cases = ADVERSARIAL_UNITS.flatMap((unit) =>
  adversarialRequests(unit).map(([placement, request]) => ({
    key: `${unit} ${placement}`,
    request,
  })),
);
// One pass over everything first, so that the first cases are not timed with a cold compiler.
for (const { request } of cases) for (let i = 0; i < 20; i++) screener.screen(request, 'c');

const results: Record<string, number> = {};
for (let pass = 0; pass < 3; pass++) {
  for (const { key, request } of cases) {
    const micros = cpuMicros(() => screener.screen(request, 'c'), 7, 30);
    results[key] = Math.min(results[key] ?? Number.POSITIVE_INFINITY, micros);
  }
}
process.stdout.write(JSON.stringify(results));
