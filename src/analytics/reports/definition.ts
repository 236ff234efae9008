// Checks a report definition and resolves it: every error names the option it is about.
import { parseDuration } from '../../core/duration.js';
import { ReportConfigError } from './errors.js';
import type {
  CustomSectionFunction,
  ReportDefinitionOptions,
  ReportFormat,
  ReportTarget,
} from './types.js';

/** @internal The formats every report may offer. */
export const FORMATS: readonly ReportFormat[] = ['html', 'json', 'csv'];
const PERIODS: Record<string, number> = {
  day: 86_400_000,
  week: 7 * 86_400_000,
  month: 30 * 86_400_000,
};
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const MAX_SECTIONS = 50;
const MAX_PERIOD_MS = 366 * 86_400_000;

/** @internal A section of a resolved definition: a registered one by name, or an inline one. */
export type ResolvedEntry =
  | { kind: 'named'; name: string }
  | { kind: 'custom'; name: string; title: string; collect: CustomSectionFunction };

/** @internal A checked definition. */
export interface ResolvedDefinition {
  name: string;
  title: string;
  sections: ResolvedEntry[];
  periodMs: number;
  formats: ReportFormat[];
  schedule: { cron: string; timezone: string | undefined } | undefined;
  deliver: ReportTarget[];
}

/** @internal Whether `name` may name a report (it appears in URLs and file names). */
export function isReportName(name: unknown): name is string {
  return typeof name === 'string' && NAME.test(name);
}

/** @internal Checks `options` of the report `name`; `known` tells whether a section name exists. */
export function resolveDefinition(
  name: string,
  options: ReportDefinitionOptions,
  known: (section: string) => boolean,
): ResolvedDefinition {
  const fail = (field: string, value: unknown, expected: string) =>
    new ReportConfigError(String(name), field, value, expected);
  if (!isReportName(name)) {
    throw fail(
      'name',
      name,
      'letters, digits, "_", "." or "-" (at most 64, not starting with a sign)',
    );
  }
  if (options === null || typeof options !== 'object') throw fail('options', options, 'an object');
  const title = options.title ?? name;
  if (typeof title !== 'string' || title.trim() === '' || title.length > 200) {
    throw fail('title', title, 'a string of 1 to 200 characters');
  }
  const entries = options.sections;
  if (!Array.isArray(entries) || entries.length === 0 || entries.length > MAX_SECTIONS) {
    throw fail('sections', entries, `an array of 1 to ${MAX_SECTIONS} sections`);
  }
  const seen = new Set<string>();
  const sections = entries.map((entry, i): ResolvedEntry => {
    const field = `sections[${i}]`;
    let resolved: ResolvedEntry;
    if (typeof entry === 'string') {
      if (!known(entry)) throw fail(field, entry, 'a known section name or { name, collect }');
      resolved = { kind: 'named', name: entry };
    } else if (entry !== null && typeof entry === 'object' && typeof entry.collect === 'function') {
      if (typeof entry.name !== 'string' || !NAME.test(entry.name)) {
        throw fail(`${field}.name`, entry.name, 'a section name');
      }
      const sectionTitle = entry.title ?? entry.name;
      if (typeof sectionTitle !== 'string') throw fail(`${field}.title`, sectionTitle, 'a string');
      resolved = { kind: 'custom', name: entry.name, title: sectionTitle, collect: entry.collect };
    } else {
      throw fail(field, entry, 'a section name or { name, collect: (ctx) => data }');
    }
    if (seen.has(resolved.name)) throw fail(field, resolved.name, 'a section not already listed');
    seen.add(resolved.name);
    return resolved;
  });
  const period = options.period ?? 'day';
  let periodMs: number;
  if (typeof period === 'string' && period in PERIODS) periodMs = PERIODS[period]!;
  else {
    try {
      periodMs = parseDuration(period, 'period');
    } catch {
      throw fail('period', period, "'day', 'week', 'month' or a duration such as '12h'");
    }
  }
  if (periodMs < 60_000 || periodMs > MAX_PERIOD_MS) {
    throw fail('period', period, 'between one minute and 366 days');
  }
  const formats = options.formats ?? FORMATS;
  if (
    !Array.isArray(formats) ||
    formats.length === 0 ||
    !formats.every((f) => FORMATS.includes(f)) ||
    new Set(formats).size !== formats.length
  ) {
    throw fail('formats', formats, "distinct formats among 'html', 'json', 'csv'");
  }
  return {
    name,
    title,
    sections,
    periodMs,
    formats: [...formats],
    schedule: scheduleOf(options.schedule, fail),
    deliver: targetsOf(options.deliver, fail),
  };
}

function scheduleOf(
  schedule: ReportDefinitionOptions['schedule'],
  fail: (field: string, value: unknown, expected: string) => ReportConfigError,
): ResolvedDefinition['schedule'] {
  if (schedule === undefined) return undefined;
  const cron = typeof schedule === 'string' ? schedule : schedule?.cron;
  const timezone =
    typeof schedule === 'object' && schedule !== null ? schedule.timezone : undefined;
  if (typeof cron !== 'string' || !/^\S+(\s+\S+){4,5}$/.test(cron.trim())) {
    throw fail('schedule', schedule, 'a cron expression of 5 or 6 fields, or { cron, timezone }');
  }
  if (timezone !== undefined && (typeof timezone !== 'string' || timezone === '')) {
    throw fail('schedule.timezone', timezone, 'an IANA time zone');
  }
  return { cron: cron.trim(), timezone };
}

function targetsOf(
  deliver: ReportDefinitionOptions['deliver'],
  fail: (field: string, value: unknown, expected: string) => ReportConfigError,
): ReportTarget[] {
  if (deliver === undefined) return [];
  if (!Array.isArray(deliver)) throw fail('deliver', deliver, 'an array of targets');
  return deliver.map((target, i) => {
    const field = `deliver[${i}]`;
    if (target !== null && typeof target === 'object') {
      if ('channel' in target) {
        if (typeof target.channel === 'string' && target.channel !== '')
          return { channel: target.channel };
        throw fail(`${field}.channel`, target.channel, 'a channel name');
      }
      if ('directory' in target) {
        if (typeof target.directory === 'string' && target.directory !== '') {
          return { directory: target.directory };
        }
        throw fail(`${field}.directory`, target.directory, 'a directory path');
      }
    }
    throw fail(field, target, '{ channel } or { directory }');
  });
}

/** @internal How a target is named in results and errors. */
export function targetName(target: ReportTarget): string {
  return 'channel' in target ? `channel:${target.channel}` : `directory:${target.directory}`;
}
