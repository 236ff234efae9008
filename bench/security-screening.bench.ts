/**
 * npm run bench:security:screening
 *
 * The request screener's cost, in one process:
 *
 * 1. per typical request: a 30-character path, three query parameters and ten headers of about
 *    40 bytes (user agents rotating among eight browsers and one referer, so the memos of those
 *    headers work as they do on real traffic), then the same with a user agent and a referer never
 *    seen before on every request;
 * 2. per 8 KB adversarial URL: the test corpus' units (runs of quotes, `((((`, `%25%25...`,
 *    `<<<<`, alternations against each pattern) repeated to 8 KB in a raw query value, an encoded
 *    one and the path; then 8 KB of non-repeating junk built from the patterns' first characters
 *    (the screener's worst case: no view helps);
 * 3. beside a naive screener, as a reference: decodeURIComponent on the path, the query and the
 *    user agent, then eight case-insensitive regexes without any gating, the kind of middleware
 *    written by hand. It reads less (no double decoding, no cookies, no referer) and says less.
 *    There is no drop-in peer library to compare with: none is installed, and the WAF-style
 *    packages on npm are not libraries of this shape.
 *
 * Figures: CPU time per request (process.cpuUsage over batches, median batch), and the median and
 * p99 of single-request wall times (each call timed alone, the timer's own cost subtracted).
 * BENCH_ROUNDS (default 15) batches; BENCH_CALLS (default 20,000) typical requests per batch.
 */
import os from 'node:os';
import { createScreener } from '../src/security/screening/index.js';
import type { ScreenedRequest } from '../src/security/types.js';
import {
  ADVERSARIAL_UNITS,
  adversarialRequests,
} from '../tests/security/screening/support/adversarial.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15);
const CALLS = Number(process.env.BENCH_CALLS ?? 20_000);

const BROWSERS = [
  'Mozilla/5.0 (X11; Linux x86_64) Firefox/125.0',
  'Mozilla/5.0 (Windows NT 10.0) Chrome/124.0',
  'Mozilla/5.0 (Macintosh) Safari/605.1.15',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4) Mobile',
  'Mozilla/5.0 (Linux; Android 14) Chrome/124',
  'Mozilla/5.0 (Windows NT 10.0) Edg/124.0.0',
  'Mozilla/5.0 (compatible; Googlebot/2.1)',
  'Mozilla/5.0 (iPad; CPU OS 16_6) CriOS/124.0',
];
const PATHS = [
  '/api/v1/products/shoes/running',
  '/blog/2024/05/how-to-bake-bread',
  '/account/orders/12345/tracking',
  '/static/js/main.3f9a2c1b4d5e.js',
];
const QUERIES = [
  'q=trail+running&page=2&sort=price',
  'q=O%27Reilly+books&lang=en&page=1',
  'status=shipped&from=2024-05-01&limit=20',
  'v=3f9a2c1b&utm_source=mail&ref=home',
];

/** Ten headers of about 40 bytes; `agent` is the user agent. */
function typical(i: number, agent: string): ScreenedRequest {
  return {
    method: 'GET',
    path: PATHS[i % PATHS.length]!,
    query: QUERIES[(i >> 2) % QUERIES.length]!,
    headers: {
      host: 'shop.example.com',
      'user-agent': agent,
      accept: 'text/html,application/xhtml+xml,*/*;q=0.8',
      'accept-language': 'en-US,en;q=0.9,fr;q=0.8,de;q=0.7',
      'accept-encoding': 'gzip, deflate, br, zstd',
      referer: 'https://shop.example.com/c/shoes?page=1',
      cookie: 'session=4f9c2a7e1b3d5f60a8c9; theme=dark',
      connection: 'keep-alive',
      'cache-control': 'max-age=0',
      'x-forwarded-for': '203.0.113.7, 10.0.0.2',
    },
    remoteAddress: '10.0.0.2',
  };
}

/** A naive screener, as written by hand: decode, then every regex on every part. */
function naiveScreener() {
  const patterns: [string, RegExp][] = [
    ['sqli', /(\bunion\b.+\bselect\b|'\s*or\s+[\w'"]+\s*=|;\s*drop\s+table|\bsleep\s*\(|--\s*$)/i],
    ['xss', /(<\s*script|\bon\w+\s*=|javascript\s*:|<\s*iframe|<\s*svg)/i],
    ['traversal', /(\.\.[/\\]|\/etc\/passwd|boot\.ini)/i],
    ['cmdi', /([;|&`]\s*(cat|ls|id|whoami|wget|curl|bash|sh)\b|\$\()/i],
    ['scanner', /(sqlmap|nikto|nmap|masscan|zgrab|nuclei|wpscan|dirbuster|gobuster)/i],
    ['probe', /\/(\.env|\.git|wp-admin|wp-login\.php|phpmyadmin|\.aws|server-status|actuator)/i],
    ['jndi', /\$\{jndi:/i],
    ['shellshock', /\(\)\s*\{/],
  ];
  const decode = (text: string) => {
    try {
      return decodeURIComponent(text.replace(/\+/g, ' '));
    } catch {
      return text;
    }
  };
  return (request: ScreenedRequest) => {
    const ua = request.headers['user-agent'];
    const parts = [decode(request.path), decode(request.query), typeof ua === 'string' ? ua : ''];
    const found: string[] = [];
    for (const [name, pattern] of patterns) {
      if (parts.some((part) => pattern.test(part))) found.push(name);
    }
    return found;
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const quantile = (xs: number[], q: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * q))]!;

/** The timer's own cost, subtracted from single-call timings. */
function timerOverhead(): number {
  const samples: number[] = [];
  for (let i = 0; i < 100_000; i++) {
    const t = process.hrtime.bigint();
    samples.push(Number(process.hrtime.bigint() - t));
  }
  return median(samples);
}

/** CPU nanoseconds per call: the median of ROUNDS batches. */
function cpuPerCall(calls: number, call: (i: number) => unknown): number {
  for (let i = 0; i < calls; i++) call(i);
  const rounds: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const start = process.cpuUsage();
    for (let i = 0; i < calls; i++) call(i);
    const used = process.cpuUsage(start);
    rounds.push(((used.user + used.system) * 1_000) / calls);
  }
  return median(rounds);
}

/** Wall nanoseconds of single calls, the timer's cost taken off. */
function singleCalls(count: number, overhead: number, call: (i: number) => unknown): number[] {
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const t = process.hrtime.bigint();
    call(i);
    samples.push(Math.max(0, Number(process.hrtime.bigint() - t) - overhead));
  }
  return samples;
}

const ns = (value: number) =>
  value >= 10_000 ? `${(value / 1_000).toFixed(1)} µs` : `${(value / 1_000).toFixed(2)} µs`;

function main() {
  const overhead = timerOverhead();
  const rows: string[][] = [];
  const screener = createScreener();
  const naive = naiveScreener();

  // 1. Typical requests.
  const typicalRequests = Array.from({ length: 64 }, (_, i) =>
    typical(i, BROWSERS[i % BROWSERS.length]!),
  );
  for (const r of typicalRequests) {
    if (screener.screen(r, 'c').length > 0)
      throw new Error(`a typical request has findings: ${r.path}`);
  }
  const typicalCpu = cpuPerCall(CALLS, (i) => screener.screen(typicalRequests[i & 63]!, 'c'));
  const typicalWall = singleCalls(CALLS * 5, overhead, (i) =>
    screener.screen(typicalRequests[i & 63]!, 'c'),
  );
  rows.push([
    'typical request (8 browsers)',
    ns(typicalCpu),
    ns(median(typicalWall)),
    ns(quantile(typicalWall, 0.99)),
    '< 2 µs',
  ]);

  // 5,000 user agents and referers in turn: more than the memos hold (1,000), so none is there.
  const fresh = Array.from({ length: 5_000 }, (_, i) => {
    const request = typical(i, `Mozilla/5.0 (X11; Linux x86_64) Firefox/${i}.0`);
    return {
      ...request,
      headers: { ...request.headers, referer: `https://shop.example.com/c/${i}?page=1` },
    };
  });
  const coldCpu = cpuPerCall(CALLS, (i) => screener.screen(fresh[i % 5_000]!, 'c'));
  const coldWall = singleCalls(CALLS * 5, overhead, (i) => screener.screen(fresh[i % 5_000]!, 'c'));
  rows.push([
    'typical, user agent and referer never seen',
    ns(coldCpu),
    ns(median(coldWall)),
    ns(quantile(coldWall, 0.99)),
    '(no goal)',
  ]);

  const naiveCpu = cpuPerCall(CALLS, (i) => naive(typicalRequests[i & 63]!));
  const naiveWall = singleCalls(CALLS * 5, overhead, (i) => naive(typicalRequests[i & 63]!));
  rows.push([
    'naive screener, typical request',
    ns(naiveCpu),
    ns(median(naiveWall)),
    ns(quantile(naiveWall, 0.99)),
    '(reference)',
  ]);

  // 2. Adversarial 8 KB URLs.
  const adversarial = ADVERSARIAL_UNITS.flatMap((unit) =>
    adversarialRequests(unit).map(([placement, request]) => ({
      name: `${JSON.stringify(unit)} ${placement}`,
      request,
    })),
  );
  for (const { request } of adversarial) for (let i = 0; i < 20; i++) screener.screen(request, 'c');
  const perCase = adversarial.map(({ name, request }) => ({
    name,
    cpu: cpuPerCall(20, () => screener.screen(request, 'c')),
  }));
  const adversarialWall = singleCalls(adversarial.length * 40, overhead, (i) =>
    screener.screen(adversarial[i % adversarial.length]!.request, 'c'),
  );
  const worst = perCase.reduce((a, b) => (b.cpu > a.cpu ? b : a));
  rows.push([
    `8 KB adversarial URL (${adversarial.length} of them)`,
    ns(median(perCase.map((c) => c.cpu))),
    ns(median(adversarialWall)),
    ns(quantile(adversarialWall, 0.99)),
    '< 50 µs',
  ]);
  rows.push([`worst of them: ${worst.name}`, ns(worst.cpu), '', '', '< 50 µs']);

  const naiveAdversarial = adversarial.map(({ request }) => cpuPerCall(20, () => naive(request)));
  rows.push([
    'naive screener, same URLs (median / worst)',
    ns(median(naiveAdversarial)),
    '',
    ns(Math.max(...naiveAdversarial)),
    '(reference)',
  ]);

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
  while (junk.length < 8_190) junk += tokens[Math.floor(random() * tokens.length)];
  const junkPath = { ...typical(0, BROWSERS[0]!), path: `/${junk.slice(0, 8_189)}`, query: '' };
  const junkQuery = { ...typical(0, BROWSERS[0]!), query: `q=${junk.slice(0, 8_188)}` };
  rows.push([
    '8 KB non-repeating junk: path / query',
    `${ns(cpuPerCall(50, () => screener.screen(junkPath, 'c')))} / ${ns(cpuPerCall(50, () => screener.screen(junkQuery, 'c')))}`,
    '',
    '',
    '(bounded)',
  ]);

  const load = os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(', ');
  console.log(
    `Node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model.trim() ?? 'unknown'}), load average ${load}; timer overhead ${overhead} ns`,
  );
  const header = ['measure', 'CPU / request (median batch)', 'wall, median', 'wall, p99', 'goal'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  console.log(line(header));
  console.log(`| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`);
  for (const row of rows) console.log(line(row));
  const slowest = [...perCase].sort((a, b) => b.cpu - a.cpu).slice(0, 5);
  console.log(
    `\nslowest adversarial cases (CPU): ${slowest.map((c) => `${c.name} ${ns(c.cpu)}`).join('; ')}`,
  );
}

main();
