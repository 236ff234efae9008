// One field through the rules: decoded as a server would (percent escapes, `+` in the query,
// NFKC when not ASCII, lower case), read through short views when long and repetitive, then
// handed to the rules its characters allow.
import { classify, NON_ASCII, PERCENT, PLUS, UPPER } from './char-class.js';
import { decodeFlags, percentDecode } from './decode.js';
import { type CompiledRule, rulesFor } from './options.js';
import { probeOf } from './rules/index.js';
import { type Field, PATH } from './rules/rule.js';
import type { Finding, Run } from './run.js';
import type { ScreeningFieldKind } from './types.js';
import { MIN_VIEWED, viewsOf } from './views.js';

/** Slot of a field bit in the dispatch tables (bits are powers of two). */
const slotOf = (bit: number) => 31 - Math.clz32(bit);

/** Where a field is and how to read it. */
export interface FieldSpec {
  bit: number;
  kind: ScreeningFieldKind;
  location: string;
  /** Percent-decode it (path, query, referer, cookies). */
  decode: boolean;
  /** `+` is a space (the query). */
  plusIsSpace: boolean;
}

/** Whether a raw range can need any rule of `bit`'s table (decoding may reveal anything). */
export function worthScanning(run: Run, bit: number, mask: number): boolean {
  if ((mask & (PERCENT | NON_ASCII)) !== 0) return true;
  const table = run.engine.o.tables[slotOf(bit)]!;
  return table.always || ((mask & table.need) !== 0 && rulesFor(table, mask).length > 0);
}

/**
 * Screens one field. `raw` is already cut to maxFieldBytes; `rawMask` is its character classes
 * when the caller has them. With `collect`, built-in matches are also gathered there, whatever
 * fired before (for the user-agent cache).
 */
export function scanField(
  run: Run,
  raw: string,
  spec: FieldSpec,
  rawMask?: number,
  collect?: Finding[],
): void {
  if (raw.length >= MIN_VIEWED) {
    // A long repetitive field is read through short views, before decoding (cheaper) and after.
    const views = viewsOf(raw, spec.decode);
    if (views.length > 1) {
      for (const view of views) scanDecoded(run, view, spec, undefined, collect);
      return;
    }
  }
  scanDecoded(run, raw, spec, rawMask, collect);
}

function scanDecoded(
  run: Run,
  raw: string,
  spec: FieldSpec,
  rawMask: number | undefined,
  collect: Finding[] | undefined,
): void {
  let text = raw;
  let flags = 0;
  let mask: number | undefined;
  const plus =
    spec.plusIsSpace && (rawMask === undefined ? raw.includes('+') : (rawMask & PLUS) !== 0);
  const percent = rawMask === undefined ? raw.includes('%') : (rawMask & PERCENT) !== 0;
  if (spec.decode && percent) {
    text = percentDecode(raw, spec.plusIsSpace);
    flags = decodeFlags();
  } else if (plus) {
    text = percentDecode(raw, true);
    if (rawMask !== undefined) mask = rawMask; // it already counts `+` as a space
  } else {
    mask = rawMask;
  }
  if (text.length < MIN_VIEWED || text === raw) {
    scanText(run, text, mask, flags, raw, spec, collect);
    return;
  }
  const views = viewsOf(text);
  for (const view of views) {
    scanText(run, view, views.length === 1 ? mask : undefined, flags, raw, spec, collect);
  }
}

/** Screens one decoded text (a field, or a view of a long repetitive one). */
function scanText(
  run: Run,
  decoded: string,
  knownMask: number | undefined,
  flags: number,
  raw: string,
  spec: FieldSpec,
  collect: Finding[] | undefined,
): void {
  const o = run.engine.o;
  const table = o.tables[slotOf(spec.bit)]!;
  let text = decoded;
  let mask = knownMask ?? classify(text, 0, text.length, false);
  if ((mask & NON_ASCII) !== 0) {
    text = text.normalize('NFKC');
    mask = classify(text, 0, text.length, false) | NON_ASCII;
    text = text.toLowerCase();
  } else if ((mask & UPPER) !== 0) {
    text = text.toLowerCase();
  }
  if (spec.bit === PATH && o.probes.size > 0) {
    const probe = probeOf(text, o.probes);
    if (probe !== undefined) run.report(o.probes.get(probe)!, spec.location, text);
  }
  if (flags === 0 && !table.always && (mask & table.need) === 0) return;
  const field: Field = {
    kind: spec.kind,
    location: spec.location,
    raw,
    bit: spec.bit,
    mask,
    flags,
  };
  runRules(run, rulesFor(table, mask), text, field, collect);
  if (flags !== 0) {
    for (const rule of table.flagRules) {
      if ((flags & rule.flags) !== 0) runRules(run, [rule], text, field, collect);
    }
  }
}

/** Runs rules on a field's text; a rule that throws is counted and skipped. */
export function runRules(
  run: Run,
  rules: readonly CompiledRule[],
  text: string,
  field: Field,
  collect?: Finding[],
): void {
  for (const rule of rules) {
    const cached = collect !== undefined && rule.builtin;
    if (!cached && run.hasFired(rule)) continue;
    let evidence: string | undefined;
    try {
      evidence = rule.match(text, field);
    } catch (error) {
      run.engine.ruleFailed(rule, error);
      continue;
    }
    if (evidence === undefined) continue;
    if (cached) collect.push({ rule, evidence });
    run.report(rule, field.location, evidence);
  }
}
