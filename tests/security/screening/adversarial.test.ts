// 8 KB requests built to make each pattern work as hard as it can must each be screened in under
// 50 µs of CPU (median), and time must grow linearly with length (no backtracking blow-up).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { createScreener } from '../../../src/security/screening/index.js';
import { request } from './corpus.js';
import {
  ADVERSARIAL_UNITS,
  adversarialRequests,
  cpuMicros,
  repeat,
} from './support/adversarial.js';

const run = promisify(execFile);

describe('adversarial 8 KB requests', () => {
  let timings: Record<string, number> = {};

  beforeAll(async () => {
    // Timed in a plain Node process: the test runner's module wrapper slows cross-module calls.
    const { stdout } = await run(
      process.execPath,
      ['--import', 'tsx', 'tests/security/screening/support/adversarial-timings.ts'],
      { timeout: 120_000, maxBuffer: 1 << 20 },
    );
    timings = JSON.parse(stdout) as Record<string, number>;
  }, 130_000);

  it.each(ADVERSARIAL_UNITS)('%j repeated: each placement under 50 µs (median CPU)', (unit) => {
    const placements = adversarialRequests(unit).map(([placement]) => `${unit} ${placement}`);
    const slow = placements
      .map((key) => [key, timings[key]] as const)
      .filter(([, micros]) => micros === undefined || micros >= 50);
    expect(slow).toEqual([]);
  });

  it('finds what is there in them, and returns', () => {
    const screener = createScreener();
    const findings = (unit: string) =>
      adversarialRequests(unit).flatMap(([, req]) => screener.screen(req, 'c').map((f) => f.rule));
    expect(findings('../')).toContain('traversal.dot-dot');
    expect(findings('<script ')).toContain('xss.script-tag');
    expect(findings('%')).toContain('malformed.percent-encoding');
    expect(findings("' or 1=1 ")).toContain('sqli.tautology');
  });

  it('grows linearly on non-repeating junk built from pattern starts', () => {
    const screener = createScreener();
    let seed = 7;
    const random = () => {
      seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
      return seed / 2 ** 32;
    };
    const tokens = [
      "'",
      '"',
      '<',
      '(',
      ';',
      '|',
      '&',
      '$',
      '{',
      '/',
      '.',
      ':',
      '=',
      '-',
      '*',
      ' ',
      'or',
      'on',
      'union',
      'select',
      'script',
      'cat',
    ];
    let junk = '';
    while (junk.length < 16_000) junk += tokens[Math.floor(random() * tokens.length)];
    const at = (length: number) =>
      cpuMicros(() => screener.screen(request({ path: `/${junk.slice(0, length)}` }), 'c'), 7, 10);
    const small = at(2_000);
    const large = at(8_000);
    // Four times the length: four times the work, with room for noise; never quadratic.
    expect(large / small).toBeLessThan(8);
    expect(large).toBeLessThan(5_000);
  });

  it('stays bounded with a long run of one character in every screened part', () => {
    const screener = createScreener();
    const junk = repeat("'");
    const req = request({
      path: `/${repeat('(', 4_000)}`,
      query: `a=${repeat('<', 4_000)}&b=${repeat('%25', 4_000)}`,
      headers: { 'user-agent': junk, referer: junk, 'x-forwarded-for': junk, cookie: `a=${junk}` },
    });
    expect(cpuMicros(() => screener.screen(req, 'c'), 7, 10)).toBeLessThan(1_000);
  });
});
