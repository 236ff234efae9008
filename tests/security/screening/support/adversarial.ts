// The adversarial corpus: 8 KB requests built to make each pattern work as hard as it can, long
// runs of the characters patterns start on and short units repeated.
import type { ScreenedRequest } from '../../../../src/security/types.js';

export const ADVERSARIAL_LENGTH = 8_190;

export const repeat = (unit: string, length = ADVERSARIAL_LENGTH) =>
  unit.repeat(Math.ceil(length / unit.length)).slice(0, length);

/** Units repeated to 8 KB: runs of one character and alternations, each against some pattern. */
export const ADVERSARIAL_UNITS = [
  "'",
  '"',
  '`',
  '((((',
  '<',
  '<<<<>',
  '%',
  '%25',
  '%u00',
  '%c0%ae',
  "' or ",
  "' or '",
  "'||'",
  ' or 1=1 ',
  "'--",
  '/*',
  '*/',
  '/*!',
  'union ',
  'sleep(',
  '; ',
  ';cat',
  '|',
  '&&',
  '$(',
  '${',
  '() {',
  '\n',
  '../',
  '..;/',
  '/.',
  '<a ',
  ' onerror=',
  'javascript:',
  'java\tscript',
  '&#',
  '@@',
  '_',
  '+',
  'a=1&',
  ' ',
  'é',
  '\uff1c',
];

const base = (parts: Partial<ScreenedRequest>): ScreenedRequest => ({
  method: 'GET',
  path: '/search',
  query: '',
  headers: {},
  remoteAddress: '203.0.113.7',
  ...parts,
});

/** One unit's 8 KB requests: as a raw query value, percent-encoded, and as the path. */
export function adversarialRequests(unit: string): [placement: string, request: ScreenedRequest][] {
  const length = ADVERSARIAL_LENGTH;
  const encoded = repeat(encodeURIComponent(unit))
    .slice(0, length - 2)
    .replace(/%[0-9A-F]?$/i, '');
  return [
    ['raw query value', base({ query: `q=${repeat(unit, length - 2)}` })],
    ['encoded query value', base({ query: `q=${encoded}` })],
    ['path', base({ path: `/${repeat(unit.replace(/[?#]/g, ''), length - 1)}` })],
  ];
}

/** Median CPU time of one call, in microseconds (rounds of `perRound` calls, after a warm-up). */
export function cpuMicros(call: () => unknown, rounds = 11, perRound = 40): number {
  for (let i = 0; i < perRound * 2; i++) call();
  const times: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const start = process.cpuUsage();
    for (let i = 0; i < perRound; i++) call();
    const used = process.cpuUsage(start);
    times.push((used.user + used.system) / perRound);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(rounds / 2)]!;
}
